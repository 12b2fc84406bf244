import { getLlama, LlamaChatSession } from 'node-llama-cpp'
let t = Date.now(); const lap = (m) => { console.log(m, Date.now() - t, 'ms'); t = Date.now() }
const llama = await getLlama({ build: 'never', progressLogs: false, logLevel: 'error', maxThreads: Number(process.argv[2]) }); lap('getLlama ' + llama.gpu + ' threads ' + llama.maxThreads)
const model = await llama.loadModel({ modelPath: '/tmp/ggdbg/tiny.gguf' }); lap('loadModel')
for (let i = 0; i < 2; i++) {
const context = await model.createContext({ contextSize: { max: 512 } }); lap('context ' + context.contextSize)
const session = new LlamaChatSession({ contextSequence: context.getSequence() })
const r = await session.prompt('Say hello', { maxTokens: 6, temperature: 0 }); lap('chat ' + JSON.stringify(r))
await context.dispose()
}
