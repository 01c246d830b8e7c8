/** What an inspect command prints (container, image, network, volume): docker's layout. */
import { out } from '../command';
import { formatTemplate } from '../../view/go-template';

/** Each object through `--format`, or all of them as indented JSON. */
export function printInspected(objects: unknown[], format: string | undefined): void {
  if (format) for (const o of objects) out(formatTemplate(format, o));
  else out(JSON.stringify(objects, null, 4));
}
