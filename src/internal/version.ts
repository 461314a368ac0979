/** The library's version, sent as `$lib_version` and in the `User-Agent`. Kept in step with package.json by a test. */
export const version = "0.1.0"
