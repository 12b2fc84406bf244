// The corpus of hostile inputs kept in test/fuzz/corpus/: one input per line, `#` lines are
// comments, a line starting with `json:` is a JSON string literal (control characters, lone
// surrogates). Found from the repository root so that the compiled benchmark (dist/) reads it too.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function corpusDir(): URL {
  let dir = new URL('.', import.meta.url)
  while (!existsSync(fileURLToPath(new URL('package.json', dir)))) {
    const parent = new URL('..', dir)
    if (parent.href === dir.href) throw new Error('fuzz: cannot find the repository root (package.json)')
    dir = parent
  }
  return new URL('test/fuzz/corpus/', dir)
}

export function loadCorpus(name: 'relay-frames' | 'urls' | 'strings' | 'json' | 'http'): string[] {
  return readFileSync(fileURLToPath(new URL(`${name}.txt`, corpusDir())), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('# ') && line !== '#')
    .map((line) => (line.startsWith('json:') ? (JSON.parse(line.slice(5)) as string) : line))
}
