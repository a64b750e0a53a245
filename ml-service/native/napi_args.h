// The N-API argument checks both search addons share (zscan.c, dtwscan.c): each returns 0 / NULL with a
// pending JS TypeError naming what is wrong, so a caller only has to `return NULL`.
#ifndef NAPI_ARGS_H
#define NAPI_ARGS_H
#include <node_api.h>
#include <stdint.h>

/** The call's n arguments into argv; 0 with a pending JS error when there are not exactly n. */
static inline int args_of(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *message) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == n) return 1;
  napi_throw_type_error(env, NULL, message);
  return 0;
}

/** A typed array's elements and length, or NULL with a pending JS error when it is not of that type. */
static inline void *typed_of(napi_env env, napi_value v, napi_typedarray_type want, size_t *length,
                             const char *what) {
  napi_typedarray_type type;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &ab, &off) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return data;
}

/** The integer arguments argv[at[i]] into out[i]; 0 with a pending JS error when one is not an integer. */
static inline int ints_of(napi_env env, napi_value *argv, const int *at, int n, int64_t *out, const char *message) {
  for (int i = 0; i < n; i++) {
    if (napi_get_value_int64(env, argv[at[i]], &out[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, message);
      return 0;
    }
  }
  return 1;
}
#endif
