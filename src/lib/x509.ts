/**
 * The one place that loads @peculiar/x509. Its dependency tsyringe insists on a
 * `Reflect.getMetadata` polyfill at load time (normally the reflect-metadata
 * package, which is not installed); x509 itself only stores and reads metadata,
 * so a WeakMap-backed shim of the three functions tsyringe calls is enough.
 * WebCrypto comes from node:crypto.
 */
import { webcrypto } from 'node:crypto';

type MetadataReflect = typeof Reflect & {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
};

const reflect = Reflect as MetadataReflect;
if (reflect.getMetadata === undefined) {
  const store = new WeakMap<object, Map<unknown, unknown>>();
  reflect.defineMetadata = (key, value, target) => {
    let map = store.get(target);
    if (map === undefined) store.set(target, (map = new Map()));
    map.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const value = store.get(t)?.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

const x509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
