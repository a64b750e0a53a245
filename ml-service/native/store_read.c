// Reads one entity file's closes and days straight into the loader's shared arrays through SQLite's C
// API (Debian's libsqlite3): the closes as doubles, never formatted as text and parsed back, and the
// dates parsed in place. Through better-sqlite3 the same read cost ~0.3 us a row (SQLite formatting each
// close for a JSON array, JSON.parse, and the open/prepare/close of better-sqlite3), which kept the cold
// load of 20 M rows at the edge of its 5 s target.
//
// It trusts nothing: any row that is not a valid 'YYYY-MM-DD' date strictly after the previous one with a
// finite numeric close, or a row count other than the caller's, returns -1 and src/market/market-data.ts reads
// the file again through better-sqlite3, which names the problem. Entity files are never modified in
// place (the scraper renames complete files into place), so a second SQLite in the process cannot see a
// half-written file.
#include <math.h>
#include <node_api.h>
#include <sqlite3.h>
#include <stdint.h>

static const int MONTH_DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/** The decimal number in s[0, count), or -1 if a character is not a digit. */
static int digits(const unsigned char *s, int count) {
  int v = 0;
  for (int i = 0; i < count; i++) {
    const int c = s[i] - '0';
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

static long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/**
 * Strict 'YYYY-MM-DD' to days since 1970-01-01, as isoToDay in src/market/dates.ts (days-from-civil,
 * H. Hinnant). Returns 0 for anything that is not a valid calendar date.
 */
static int iso_day(const unsigned char *s, int len, int32_t *out) {
  if (len != 10 || s[4] != '-' || s[7] != '-') return 0;
  const int y0 = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
  if (y0 < 0 || m < 1 || m > 12 || d < 1) return 0;
  const int leap = (y0 % 4 == 0 && y0 % 100 != 0) || y0 % 400 == 0;
  if (d > (m == 2 ? (leap ? 29 : 28) : MONTH_DAYS[m - 1])) return 0;
  const long y = m <= 2 ? y0 - 1 : y0;
  const long era = floor_div(y, 400);
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  *out = (int32_t)(era * 146097 + doe - 719468);
  return 1;
}

/** Reads the file into closes[0, n) and days[0, n); returns n, or -1 on anything unexpected. */
static int read_entity(const char *path, double *closes, int32_t *days, int64_t n) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t k = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) goto done;
  if (sqlite3_prepare_v2(db, "SELECT date, close FROM prices ORDER BY date", -1, &st, NULL) != SQLITE_OK) goto done;
  int64_t rows = 0;
  int32_t prev = INT32_MIN;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (rows >= n || sqlite3_column_type(st, 0) != SQLITE_TEXT) goto done;
    const int type = sqlite3_column_type(st, 1);
    if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) goto done;
    const unsigned char *date = sqlite3_column_text(st, 0);
    int32_t day;
    if (!date || !iso_day(date, sqlite3_column_bytes(st, 0), &day) || day <= prev) goto done;
    const double close = sqlite3_column_double(st, 1);
    if (!isfinite(close)) goto done;
    closes[rows] = close;
    days[rows] = day;
    prev = day;
    rows++;
  }
  if (rc == SQLITE_DONE && rows == n) k = rows;
done:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return (int)k;
}

static void *typed_array(napi_env env, napi_value v, napi_typedarray_type want, size_t *length) {
  napi_typedarray_type type;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &ab, &off) != napi_ok || type != want) return NULL;
  return data;
}

/** readEntity(path: string, closes: Float64Array, days: Int32Array): rows read, or -1 (see above). */
static napi_value ReadEntity(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t pathLen = 0;
  size_t nc = 0, nd = 0;
  double *closes = argc == 3 ? typed_array(env, argv[1], napi_float64_array, &nc) : NULL;
  int32_t *days = argc == 3 ? typed_array(env, argv[2], napi_int32_array, &nd) : NULL;
  if (argc != 3 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &pathLen) != napi_ok ||
      (!closes && nc > 0) || (!days && nd > 0) || nc != nd) {
    napi_throw_type_error(env, NULL, "readEntity(path: string, closes: Float64Array, days: Int32Array) of one length");
    return NULL;
  }
  napi_value r;
  // A path that filled the buffer may have been cut short: let the caller's reader open it.
  napi_create_int32(env, pathLen >= sizeof path - 1 ? -1 : read_entity(path, closes, days, (int64_t)nc), &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "readEntity", NAPI_AUTO_LENGTH, ReadEntity, NULL, &fn);
  napi_set_named_property(env, exports, "readEntity", fn);
  return exports;
}
