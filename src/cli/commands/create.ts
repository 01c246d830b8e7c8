/** `ctrnet create [OPTIONS] IMAGE [COMMAND] [ARG...]`: the container, not started; prints its id. */
import { Command, out } from '../command';
import { createBody, createContainer, RUN_FLAGS } from './_create';

export const command: Command = {
  kind: 'command',
  name: 'create',
  usage: 'ctrnet create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  flags: RUN_FLAGS,
  interspersed: false,
  async run(ctx, p) {
    const { name, body } = createBody(p);
    out(await createContainer(ctx, name, body, p));
    return 0;
  },
};
