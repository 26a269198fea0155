/* SPDX-License-Identifier: MIT */
/*
 * json_out.c - helpers for writing JSON with json-c (json_out.h).
 *
 * Owns nothing but the formatting choices shared by every emitter of the
 * tool: spaced separators, no escaping of '/', numbers in a fixed printf
 * format where a schema fixed one (json_object_new_double_s keeps the
 * string it is given as the serialised form).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "json_out.h"

#define JFLAGS (JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

struct json_object *jnum(double v, const char *fmt)
{
	char buf[64];

	if (!isfinite(v))
		return NULL;	/* json-c serialises a NULL member as null */
	snprintf(buf, sizeof(buf), fmt, v);
	return json_object_new_double_s(v, buf);
}

struct json_object *jnum_or_null(double v, bool valid)
{
	return valid ? jnum(v, "%.6g") : NULL;
}

struct json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

void jset(struct json_object *obj, const char *key, struct json_object *val)
{
	json_object_object_add(obj, key, val);
}

void jset_str(struct json_object *obj, const char *key, const char *s)
{
	jset(obj, key, jstr(s));
}

void jset_int(struct json_object *obj, const char *key, long long v)
{
	jset(obj, key, json_object_new_int64(v));
}

void jset_bool(struct json_object *obj, const char *key, bool v)
{
	jset(obj, key, json_object_new_boolean(v));
}

const char *json_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JFLAGS);
}

int json_print(FILE *f, struct json_object *obj, bool pretty)
{
	int flags = JFLAGS | (pretty ? JSON_C_TO_STRING_PRETTY : 0);

	fputs(json_object_to_json_string_ext(obj, flags), f);
	fputc('\n', f);
	json_object_put(obj);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

int json_print_rows(FILE *f, struct json_object *rows)
{
	size_t n = json_object_array_length(rows);

	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n %s", i ? "," : "",
			json_text(json_object_array_get_idx(rows, i)));
	fputs("\n]\n", f);
	json_object_put(rows);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
