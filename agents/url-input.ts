// Fetching `url` job inputs. The runtime takes the fetcher as a dependency so that it can be
// replaced (tests, a hardened fetcher that refuses private addresses).
export type UrlFetcher = (url: string, options: { signal: AbortSignal; maxBytes: number }) => Promise<string>

/** GETs the URL and returns its body as UTF-8 text; refuses non-2xx answers and bodies over maxBytes. */
export const fetchUrlText: UrlFetcher = async (url, { signal, maxBytes }) => {
  const protocol = new URL(url).protocol
  if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`only http and https URLs can be fetched, not ${protocol}`)
  const response = await fetch(url, { signal, redirect: 'follow' })
  if (!response.ok) throw new Error(`fetching ${url} answered HTTP ${response.status}`)
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) throw new Error(`${url} is ${declared} bytes, more than the ${maxBytes} allowed`)
  const chunks: Uint8Array[] = []
  let size = 0
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > maxBytes) throw new Error(`${url} is more than the ${maxBytes} bytes allowed`)
      chunks.push(chunk)
    }
  }
  return Buffer.concat(chunks).toString('utf8')
}
