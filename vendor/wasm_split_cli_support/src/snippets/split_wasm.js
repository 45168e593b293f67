function wrapAsyncCb(callee) {
    return async (callbackIndex, callbackData) => {
        let success;
        try {
            await callee();
            success = true;
        } catch (e) {
            console.error(e);
            success = false;
        } finally {
            const sharedImports = getSharedImports();
            sharedImports.__wasm_split.__indirect_function_table.get(callbackIndex)(callbackData, success);
        }
    }
}
function makeLoad(fetcher, deps) {
    const loader = async () => {
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);
        const imports = getSharedImports();
        return instantiate(imports);
    };
    let loadingModule = undefined;
    return () => {
        if (loadingModule === undefined) {
            const thisLoad = loader();
            // Memoize successes only: a rejected load must not be cached for
            // the lifetime of the session, or one transient network failure
            // permanently breaks the module. Clearing on rejection lets the
            // next call (e.g. the Rust side re-invoking load after a failed
            // callback) start a fresh attempt.
            thisLoad.catch(() => {
                if (loadingModule === thisLoad) loadingModule = undefined;
            });
            loadingModule = thisLoad;
        }
        return loadingModule;
    }
}
// A page links the chunks it needs as one download, a bundle: <link rel="preload"
// href=".../bundle?chunks=NAME,NAME,...">. It holds, for each chunk, the length of its name
// (2 bytes, little-endian), its name, its length (4 bytes, little-endian) and its bytes. A chunk
// is taken from the bundle that holds it, and fetched alone when none does or the bundle cannot
// be had.
let bundleOf = undefined;
const fetchedAlone = new Set();
function bundles() {
    if (bundleOf === undefined) {
        bundleOf = new Map();
        const links = typeof document === "undefined" ? [] : document.querySelectorAll('link[rel="preload"][href*="/bundle?chunks="]');
        for (const link of links) {
            const url = new URL(link.href);
            addBundle(url, (url.searchParams.get("chunks") || "").split(","));
        }
    }
    return bundleOf;
}
function addBundle(url, names) {
    let parts = undefined;
    const get = () => {
        if (parts === undefined) {
            parts = fetch(url).then(r => {
                if (!r.ok) throw new Error(`${url}: ${r.status}`);
                return r.arrayBuffer();
            }).then(buffer => {
                const view = new DataView(buffer);
                const text = new TextDecoder();
                const found = new Map();
                let at = 0;
                while (at < buffer.byteLength) {
                    const nameLen = view.getUint16(at, true);
                    const name = text.decode(new Uint8Array(buffer, at + 2, nameLen));
                    at += 2 + nameLen;
                    const len = view.getUint32(at, true);
                    found.set(name, new Uint8Array(buffer, at + 4, len));
                    at += 4 + len;
                }
                return found;
            });
        }
        return parts;
    };
    for (const name of names) if (!bundleOf.has(name)) bundleOf.set(name, get);
}
// A part's loader: the chunks it needs that no bundle holds and that were not fetched yet are
// asked for as one bundle (`names`: its chunks and its own module), then loaded as usual.
function withBundle(names, load) {
    return () => {
        const index = bundles();
        const missing = names.filter(n => !index.has(n) && !fetchedAlone.has(n));
        if (missing.length > 1) addBundle(new URL(`./bundle?chunks=${missing.join(",")}`, import.meta.url), missing);
        return load();
    };
}
function fetchChunk(url) {
    const name = url.pathname.slice(url.pathname.lastIndexOf("/") + 1).replace(/\.wasm$/, "");
    const bundle = bundles().get(name);
    if (bundle === undefined) {
        fetchedAlone.add(name);
        return fetch(url);
    }
    return bundle().then(
        parts => parts.has(name)
            ? new Response(parts.get(name), { headers: { "content-type": "application/wasm" } })
            : fetch(url),
        () => fetch(url),
    );
}
