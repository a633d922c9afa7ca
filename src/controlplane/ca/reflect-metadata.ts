/**
 * The few `Reflect` metadata functions tsyringe (a dependency of @peculiar/x509)
 * checks for at load time and calls while registering x509's algorithm
 * providers: defineMetadata, getOwnMetadata, getMetadata (own, then up the
 * prototype chain) and the `metadata` decorator factory. A polyfill package
 * would be a new dependency for four functions; this module must be imported
 * before @peculiar/x509 (authority.ts does).
 */
type Target = object;
type MetadataReflect = typeof Reflect & {
  defineMetadata?: (key: unknown, value: unknown, target: Target, property?: PropertyKey) => void;
  getOwnMetadata?: (key: unknown, target: Target, property?: PropertyKey) => unknown;
  getMetadata?: (key: unknown, target: Target, property?: PropertyKey) => unknown;
  metadata?: (key: unknown, value: unknown) => (target: Target, property?: PropertyKey) => void;
};

const reflect = Reflect as MetadataReflect;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const entries = (target: Target, property: PropertyKey | undefined, create: boolean): Map<unknown, unknown> | undefined => {
    let byProperty = store.get(target);
    if (byProperty === undefined) {
      if (!create) return undefined;
      byProperty = new Map();
      store.set(target, byProperty);
    }
    let byKey = byProperty.get(property);
    if (byKey === undefined && create) {
      byKey = new Map();
      byProperty.set(property, byKey);
    }
    return byKey;
  };
  reflect.defineMetadata = (key, value, target, property) => void entries(target, property, true)!.set(key, value);
  reflect.getOwnMetadata = (key, target, property) => entries(target, property, false)?.get(key);
  reflect.getMetadata = (key, target, property) => {
    for (let current: Target | null = target; current !== null; current = Object.getPrototypeOf(current) as Target | null) {
      const found = entries(current, property, false);
      if (found?.has(key)) return found.get(key);
    }
    return undefined;
  };
  reflect.metadata = (key, value) => (target, property) => reflect.defineMetadata!(key, value, target, property);
}

export {};
