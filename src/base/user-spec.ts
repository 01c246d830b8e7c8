/**
 * A container's user, Docker's `--user` / image `User` (`name|uid[:group|gid]`), resolved against
 * the container's /etc/passwd and /etc/group the way runc's libcontainer/user does: a name must be
 * in passwd, a number need not be; the primary group comes from passwd unless one is given; the
 * supplementary groups are the primary one and, when no group is given, those of /etc/group that
 * list the user (what `id` shows in a Docker 20.10 container).
 */
import { EngineError } from './errors';

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** from passwd; "/" when the user is not there (as runc) */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const ID = /^\d{1,10}$/;
const MAX_ID = 2 ** 31 - 1;

function id(s: string, what: string, spec: string): number {
  const n = Number(s);
  if (n > MAX_ID) throw new EngineError('INVALID_PARAMETER', `${what} ${s} of user "${spec}" is out of range`, { hint: `use a number from 0 to ${MAX_ID}` });
  return n;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.trim().split(':');
    if (f.length < 4 || !ID.test(f[2]) || !ID.test(f[3]) || l.startsWith('#')) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }];
  });
}

function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.trim().split(':');
    if (f.length < 3 || !ID.test(f[2]) || l.startsWith('#')) return [];
    return [{ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }];
  });
}

/**
 * Resolves `spec` against the files' text (undefined: the file is missing, as in a scratch image).
 * Throws INVALID_PARAMETER with runc's words when a name is not there.
 */
export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined): ProcessUser {
  const [userPart, groupPart] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, undefined];
  const users = parsePasswd(passwdText ?? '');
  const arg = userPart === '' ? '0' : userPart;
  let user: ProcessUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let matchedName: string | undefined;
  const numeric = ID.test(arg);
  const found = users.find((u) => (numeric ? u.uid === Number(arg) : u.name === arg));
  if (found) {
    user = { uid: found.uid, gid: found.gid, additionalGids: [], home: found.home };
    matchedName = found.name;
  } else if (numeric) {
    user.uid = id(arg, 'uid', spec);
  } else {
    throw new EngineError('INVALID_PARAMETER', `unable to find user ${arg}: no matching entries in passwd file`, { hint: 'give a user of the image\'s /etc/passwd, or a numeric uid[:gid]' });
  }
  const groups = parseGroup(groupText ?? '');
  if (groupPart !== undefined && groupPart !== '') {
    if (ID.test(groupPart)) user.gid = id(groupPart, 'gid', spec);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new EngineError('INVALID_PARAMETER', `unable to find group ${groupPart}: no matching entries in group file`, { hint: 'give a group of the image\'s /etc/group, or a numeric gid' });
      user.gid = g.gid;
    }
  } else if (matchedName) {
    user.additionalGids = groups.filter((g) => g.members.includes(matchedName!)).map((g) => g.gid);
  }
  // As Docker 20.10 runs it: the primary group first among the supplementary ones.
  user.additionalGids = [...new Set([user.gid, ...user.additionalGids])];
  return user;
}
