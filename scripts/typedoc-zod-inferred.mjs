// TypeDoc plugin (loaded by typedoc.json): members of the types TypeScript infers from zod schemas (the keys of a
// zod object shape, wherever the shape is written, as they appear in the schema constant's type, in `z.infer` types
// and in every signature that returns one) are not required to carry TSDoc. The exported schema constant and the
// named type document them as a whole; the key names are the wire format's. A comment written on a shape key is still
// shown. Every other member (interfaces, type literals, classes written by hand) keeps the requirement: the plugin only
// adds names to `intentionallyNotDocumented`. (`z.enum` values need nothing: TypeScript gives them no declaration, so
// typedoc never attributes them to a package.)
//
// Why two steps: in `packages` mode each package is converted on its own (TypeScript symbols available), then the
// projects are serialised and revived into one, and only that revived project is validated. So the members are
// classified while converting (by symbol id) and exempted by name just before validation.
import { Application, Converter, ReflectionKind, TypeScript as ts } from 'typedoc';

/** @param {{ packageName: string, packagePath: string, qualifiedName: string }} id */
const keyOf = (id) => `${id.packageName}\0${id.packagePath}\0${id.qualifiedName}`;

/** True when `type` is a zod 4 schema (every schema carries its internals under `_zod`). */
function isZodSchemaType(type) {
  return type.getProperty('_zod') !== undefined;
}

/**
 * True when the declaration is a key of a zod shape: a property of an object literal whose value is a zod schema.
 * @param {ts.Declaration} decl
 * @param {ts.TypeChecker} checker
 */
function isZodInferredDeclaration(decl, checker) {
  if (ts.isPropertyAssignment(decl) && ts.isObjectLiteralExpression(decl.parent)) {
    return isZodSchemaType(checker.getTypeAtLocation(decl.initializer));
  }
  if (ts.isShorthandPropertyAssignment(decl) && ts.isObjectLiteralExpression(decl.parent)) {
    return isZodSchemaType(checker.getTypeAtLocation(decl.name));
  }
  return false;
}

/** The validator never asks for comments below a parameter, so naming those members would be reported as unused. */
function isInsideParameter(reflection) {
  for (let r = reflection.parent; r; r = r.parent) if (r.kindOf(ReflectionKind.Parameter)) return true;
  return false;
}

/** @param {Application} app */
export function load(app) {
  /** Symbol ids (package, file, qualified name) of zod-inferred members, collected over all packages. */
  const inferred = new Set();

  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Property)) return;
    const declarations = context.getSymbolFromReflection(reflection)?.declarations;
    // Every declaration: a member merged with a hand-written one (an intersection with a type literal) stays required.
    if (!declarations?.length || !declarations.every((d) => isZodInferredDeclaration(d, context.checker))) return;
    const id = context.project.getSymbolIdFromReflection(reflection);
    if (id) inferred.add(keyOf(id));
  });

  app.on(Application.EVENT_PROJECT_REVIVE, (project) => {
    const exempt = new Set();
    const required = new Set();
    for (const reflection of Object.values(project.reflections)) {
      if (reflection.hasComment() || isInsideParameter(reflection)) continue;
      const id = project.getSymbolIdFromReflection(reflection);
      const name = reflection.getFriendlyFullName();
      if (id && inferred.has(keyOf(id))) exempt.add(name);
      else required.add(name);
    }
    // A name shared with a member that must be documented stays required (the option matches by name only).
    const names = [...exempt].filter((name) => !required.has(name));
    const current = app.options.getValue('intentionallyNotDocumented');
    app.options.setValue('intentionallyNotDocumented', [...new Set([...current, ...names])]);
    app.logger.info(`typedoc-zod-inferred: ${names.length} members of zod-inferred types exempt from notDocumented`);
  });
}
