/**
 * The small subset of Go templates that `inspect -f` / `network inspect -f` understand:
 * `{{.A.B}}` (a field, objects as JSON, missing as `<no value>`) and `{{json .A}}`.
 *
 * Limitations: no functions but json, no pipelines, conditions or ranges; text around the
 * actions is kept as it is.
 */

/** Fills every action of `fmt` from `obj`. */
export function formatTemplate(fmt: string, obj: unknown): string {
  return fmt.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    let v: unknown = obj;
    for (const k of path.split('.').filter(Boolean)) v = (v as Record<string, unknown> | null | undefined)?.[k];
    return json ? JSON.stringify(v) : v === undefined || v === null ? '<no value>' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}
