// Validates events against the published JSON schemas of @nostrability/schemata (draft-07, ajv).
// An event is checked against the schema of its kind when the package has one (and the kind's
// content schema, for JSON content), else against the generic NIP-01 note schema; tags that NIP-90
// defines (i, output, param, bid, status, amount, request) are also checked one by one on NIP-90
// kinds, because the package's per-kind schemas cover only a few job kinds.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

// ajv-formats is CommonJS with a default export; NodeNext sees the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const packageDir = dirname(createRequire(import.meta.url).resolve('@nostrability/schemata/package.json'))
const distDir = join(packageDir, 'dist')

interface KindSchemas {
  event: string[]
  content: string[]
}

function indexKindSchemas(): Map<number, KindSchemas> {
  const index = new Map<number, KindSchemas>()
  for (const family of ['nips', 'mips']) {
    const familyDir = join(distDir, family)
    if (!existsSync(familyDir)) continue
    for (const spec of readdirSync(familyDir)) {
      const specDir = join(familyDir, spec)
      for (const entry of readdirSync(specDir)) {
        const match = /^kind-(\d+)$/.exec(entry)
        if (!match) continue
        const kind = Number(match[1])
        const schemas = index.get(kind) ?? { event: [], content: [] }
        const eventSchema = join(specDir, entry, 'schema.json')
        const contentSchema = join(specDir, entry, 'schema.content.json')
        if (existsSync(eventSchema)) schemas.event.push(eventSchema)
        if (existsSync(contentSchema)) schemas.content.push(contentSchema)
        index.set(kind, schemas)
      }
    }
  }
  return index
}

const kindSchemas = indexKindSchemas()
const noteSchemaPath = join(distDir, 'nips', 'nip-01', 'note', 'schema.json')
const nip90TagDir = join(distDir, 'nips', 'nip-90', 'tag')
const nip90TagSchemas = new Map(readdirSync(nip90TagDir).map((name) => [name, join(nip90TagDir, name, 'schema.json')]))

const compiled = new Map<string, ValidateFunction>()

function validatorFor(path: string): ValidateFunction {
  let validate = compiled.get(path)
  if (!validate) {
    // One Ajv per schema: the dereferenced schemas repeat the same $ids. `strict: false` lets the
    // package's ajv-errors `errorMessage` annotations through without that plugin.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
    addFormats(ajv)
    validate = ajv.compile(JSON.parse(readFileSync(path, 'utf8')))
    compiled.set(path, validate)
  }
  return validate
}

function schemaName(path: string): string {
  return path.slice(distDir.length + 1).replace(/\/schema(\.content)?\.json$/, (_, content) => (content ? ' (content)' : ''))
}

function errorsOf(validate: ValidateFunction, value: unknown, name: string): string[] {
  if (validate(value)) return []
  return (validate.errors ?? []).map((e) => `${name}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
}

const isNip90Kind = (kind: number) => kind >= 5000 && kind <= 7000

export interface SchemaCheck {
  /** The schemas the event was checked against, e.g. 'nips/nip-90/kind-7000'. */
  schemas: string[]
  errors: string[]
}

export function hasKindSchema(kind: number): boolean {
  return (kindSchemas.get(kind)?.event.length ?? 0) > 0
}

export function checkAgainstSchemas(event: { kind: number; tags: string[][]; content: string }): SchemaCheck {
  const found = kindSchemas.get(event.kind)
  const eventSchemas = found && found.event.length > 0 ? found.event : [noteSchemaPath]
  const check: SchemaCheck = { schemas: [], errors: [] }
  for (const path of eventSchemas) {
    check.schemas.push(schemaName(path))
    check.errors.push(...errorsOf(validatorFor(path), event, schemaName(path)))
  }
  for (const path of found?.content ?? []) {
    let content: unknown
    try {
      content = JSON.parse(event.content)
    } catch {
      check.errors.push(`${schemaName(path)}: content is not JSON`)
      continue
    }
    check.schemas.push(schemaName(path))
    check.errors.push(...errorsOf(validatorFor(path), content, schemaName(path)))
  }
  if (isNip90Kind(event.kind)) {
    event.tags.forEach((tag, i) => {
      const path = nip90TagSchemas.get(tag[0])
      if (!path) return
      const name = schemaName(path)
      if (!check.schemas.includes(name)) check.schemas.push(name)
      check.errors.push(...errorsOf(validatorFor(path), tag, `${name} (tags[${i}])`))
    })
  }
  return check
}

/** Throws with every schema violation listed; returns the schemas the event was checked against. */
export function expectValidAgainstSchema(event: { kind: number; tags: string[][]; content: string }): string[] {
  const { schemas, errors } = checkAgainstSchemas(event)
  if (errors.length > 0) {
    throw new Error(`kind ${event.kind} event does not match the published schemas:\n  ${errors.join('\n  ')}\nevent: ${JSON.stringify(event)}`)
  }
  return schemas
}
