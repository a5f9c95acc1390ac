/**
 * Escaping for the HTML report. Names come from model files and may hold markup; every piece
 * of text goes through `escapeHtml` (text and quoted attribute values alike), so a layer named
 * `<img src=x onerror=alert(1)>` is shown as those characters and never parsed as a tag.
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
