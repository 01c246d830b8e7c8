/**
 * A small XML well-formedness check for tests (no XML parser in the dependencies): tags nest and
 * close, attributes are quoted and unique, entities are known, text has no bare "<" or "&", and
 * there is exactly one root element. Returns the root's name; throws naming the first problem.
 */
export function checkXml(xml: string): string {
  const stack: string[] = [];
  let root: string | undefined;
  let i = 0;
  const entity = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(xml.slice(Math.max(0, i - 40), i + 40))}`);
  };
  const checkText = (s: string, at: number) => {
    for (let k = 0; k < s.length; k++) {
      if (s[k] === '<') { i = at + k; fail('bare <'); }
      if (s[k] === '&' && !entity.test(s.slice(k))) { i = at + k; fail('bad entity'); }
    }
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = lt < 0 ? xml.slice(i) : xml.slice(i, lt);
    if (!stack.length && text.trim()) fail('text outside the root');
    checkText(text, i);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unclosed comment');
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf('>', i);
    if (gt < 0) fail('unclosed tag');
    const tag = xml.slice(i + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) fail(`unexpected </${name}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const m = /^([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
      if (!m) fail(`malformed tag <${tag.slice(0, 60)}>`);
      const names = [...m![2].matchAll(/([A-Za-z_][\w:.-]*)="([^"]*)"/g)];
      if (new Set(names.map((a) => a[1])).size !== names.length) fail('duplicate attribute');
      for (const a of names) checkText(a[2], i);
      if (!stack.length) {
        if (root !== undefined) fail('second root element');
        root = m![1];
      }
      if (!selfClosing) stack.push(m![1]);
    }
    i = gt + 1;
  }
  if (stack.length) fail(`unclosed <${stack[stack.length - 1]}>`);
  if (root === undefined) fail('no root element');
  return root!;
}
