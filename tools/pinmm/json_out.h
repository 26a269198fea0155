/* SPDX-License-Identifier: MIT */
/*
 * json_out.h - the tool's one way to write JSON (tools/pinmm/json_out.c).
 *
 * Every JSON document the tool prints is a json-c object tree serialised
 * by json-c, so strings are always escaped and the output always parses.
 * The helpers here only fill the gaps of json-c's API that the tool's
 * schemas need: a number printed with a fixed format, null for a figure
 * that was not measured, and printing (then freeing) a tree.
 */
#ifndef PINMM_TOOL_JSON_OUT_H
#define PINMM_TOOL_JSON_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* A number that prints with printf format @fmt ("%.3f"); null when not finite. */
struct json_object *jnum(double v, const char *fmt);
/* A number printed "%.6g", or null when @valid is false or @v is not finite. */
struct json_object *jnum_or_null(double v, bool valid);
/* A string; NULL becomes "" (the schemas have no null strings). */
struct json_object *jstr(const char *s);

/* obj[key] = val, for any of the constructors above or json-c's. */
void jset(struct json_object *obj, const char *key, struct json_object *val);
void jset_str(struct json_object *obj, const char *key, const char *s);
void jset_int(struct json_object *obj, const char *key, long long v);
void jset_bool(struct json_object *obj, const char *key, bool v);

/* @obj as one line of text, owned by @obj (valid until it changes or goes). */
const char *json_text(struct json_object *obj);

/*
 * Print @obj to @f followed by a newline, then drop the caller's reference.
 * @pretty: indented, one member per line; otherwise one line.
 * Return: 0, or -EIO when @f reports a write error.
 */
int json_print(FILE *f, struct json_object *obj, bool pretty);
/* Print the array @rows as "[", one element per line, "]"; then drop it. */
int json_print_rows(FILE *f, struct json_object *rows);

#endif /* PINMM_TOOL_JSON_OUT_H */
