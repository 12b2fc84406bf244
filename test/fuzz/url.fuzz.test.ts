// url job inputs: every URL of the corpus, and generated URLs whose names resolve to generated
// addresses, with an injected resolver and connector: a connection happens only to public addresses.
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { classifyAddress, createUrlFetcher, UrlInputError, type Connector, type Resolver } from '../../agents/url-input.js'
import { loadCorpus } from './corpus.js'
import { fuzzRuns } from './runs.js'

async function* okBody() {
  yield new TextEncoder().encode('ok')
}
const ok: Connector = async () => ({ status: 200, headers: {}, body: okBody(), close() {} })

describe('fuzz: url inputs', () => {
  it('refuses every URL of the corpus without connecting', async () => {
    const resolve = vi.fn<Resolver>(async () => ['127.0.0.1'])
    const connect = vi.fn<Connector>(ok)
    const fetch = createUrlFetcher({ resolve, connect })
    for (const url of loadCorpus('urls')) {
      await expect(fetch(url, { signal: new AbortController().signal, maxBytes: 100 }), url).rejects.toThrow(UrlInputError)
    }
    expect(connect).not.toHaveBeenCalled()
  })

  it('connects only to addresses that are public, whatever the names resolve to', async () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('127.0.0.1', '::1', '169.254.169.254', '::ffff:10.0.0.1', 'fd00:ec2::254', '0.0.0.0'))
    await fc.assert(
      fc.asyncProperty(fc.webUrl({ withQueryParameters: true }), fc.array(address, { minLength: 1, maxLength: 3 }), async (url, addresses) => {
        const connect = vi.fn<Connector>(ok)
        const fetch = createUrlFetcher({ resolve: async () => addresses, connect })
        const outcome = await fetch(url, { signal: new AbortController().signal, maxBytes: 100 }).then(
          () => 'fetched',
          (err: unknown) => (expect(err).toBeInstanceOf(UrlInputError), 'refused'),
        )
        for (const call of connect.mock.calls) expect(classifyAddress(call[0].address), call[0].address).toBeUndefined()
        if (outcome === 'fetched') expect(connect).toHaveBeenCalledTimes(1)
      }),
      { numRuns: fuzzRuns(300) },
    )
  })
})
