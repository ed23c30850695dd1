/** String transformations shared by process_data and robust_processing (code-point correct). */

const FIRST_LETTER = /\p{L}/u;

/**
 * Capitalise the first letter of each whitespace-separated word and lowercase the rest
 * ("john doe" → "John Doe"). Tokens containing `@` or `://` (addresses, URLs) are kept as is.
 */
export function titleCase(text: string): string {
  return text
    .split(/(\s+)/u)
    .map((token) => (token.includes('@') || token.includes('://') ? token : capitalise(token)))
    .join('');
}

function capitalise(word: string): string {
  const match = FIRST_LETTER.exec(word);
  if (!match) return word.toLowerCase();
  const at = match.index;
  const letter = match[0];
  return (
    word.slice(0, at).toLowerCase() +
    letter.toUpperCase() +
    word.slice(at + letter.length).toLowerCase()
  );
}
