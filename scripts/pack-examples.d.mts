export function rewriteForPackage(pack: string, file: string, text: string): string;
export function generateExamples(packageDir: string): string[];
