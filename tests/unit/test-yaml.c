/* The YAML loader and the validator: typing, positions, and every kind of bad
 * input producing one precise message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "validate.h"
#include "yaml-load.h"

static const char *const backends[] = {"qemu",	  "pdudaemon", "usb-relay",
				       "usb-hub", "command",   NULL};
static const struct vfield power_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED, .choices = backends},
    {.name = "port", .type = V_INT, .min = 1, .max = 48},
    {NULL},
};
static const struct vfield board_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "arch", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "tags", .type = V_ARRAY, .items = V_STRING},
    {.name = "private", .type = V_BOOL},
    {.name = "power", .type = V_OBJECT, .flags = V_REQUIRED, .fields = power_fields},
    {.name = "consoles", .type = V_ARRAY, .items = V_OBJECT, .fields = power_fields},
    {NULL},
};

static int load(struct yaml_doc *doc, const char *text, char *err)
{
	return yaml_doc_load_buf(doc, "boards/x.yaml", text, strlen(text), err, 512);
}

/* Loads and validates text; returns the messages (static storage). */
static const char *check(const char *text)
{
	static char out[4096];
	struct yaml_doc doc;
	struct vctx ctx;
	char err[512];

	if (load(&doc, text, err) < 0) {
		snprintf(out, sizeof(out), "%s", err);
		yaml_doc_release(&doc);
		return out;
	}
	vctx_init(&ctx, "boards/x.yaml", &doc);
	validate_root(&ctx, board_fields, doc.root);
	snprintf(out, sizeof(out), "%s", buf_cstr(&ctx.text));
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return out;
}

static void test_types_and_positions(void **state)
{
	struct yaml_doc doc;
	struct yaml_pos pos, kpos;
	char err[512];
	json_t *power;

	(void)state;
	assert_int_equal(load(&doc,
			      "name: b1\n"
			      "n: 42\n"
			      "f: 1.5\n"
			      "t: true\n"
			      "z: ~\n"
			      "q: \"42\"\n"
			      "power:\n"
			      "  backend: qemu\n"
			      "tags: [a, 'b']\n",
			      err),
			 0);
	assert_true(json_is_integer(json_object_get(doc.root, "n")));
	assert_int_equal(json_integer_value(json_object_get(doc.root, "n")), 42);
	assert_true(json_is_real(json_object_get(doc.root, "f")));
	assert_true(json_is_true(json_object_get(doc.root, "t")));
	assert_true(json_is_null(json_object_get(doc.root, "z")));
	assert_string_equal(json_string_value(json_object_get(doc.root, "q")), "42");
	power = json_object_get(doc.root, "power");
	assert_int_equal(yaml_doc_place(&doc, power, "backend", 0, &pos, &kpos), 0);
	assert_int_equal(pos.line, 8);
	assert_int_equal(pos.col, 12);
	assert_int_equal(kpos.col, 3);
	assert_int_equal(
	    yaml_doc_place(&doc, json_object_get(doc.root, "tags"), NULL, 1, &pos, NULL), 0);
	assert_int_equal(pos.line, 9);
	assert_int_equal(pos.col, 11);
	yaml_doc_release(&doc);
}

static void test_valid_board(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: arm64\npower:\n  backend: qemu\n"), "");
}

static void test_unknown_backend(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: arm64\npower:\n  backend: pdu2\n"),
			    "boards/x.yaml:4:12: power.backend: unknown backend \"pdu2\" "
			    "(known: qemu, pdudaemon, usb-relay, usb-hub, command)\n");
}

static void test_syntax_error(void **state)
{
	const char *msg;

	(void)state;
	msg = check("name: b1\narch: [arm64\npower: {}\n");
	assert_non_null(strstr(msg, "boards/x.yaml:"));
	assert_non_null(strstr(msg, "YAML syntax error"));
}

static void test_duplicate_key(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: x\nname: b2\n"),
			    "boards/x.yaml:3:1: duplicate key \"name\"");
}

static void test_wrong_type(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: x\nprivate: maybe\npower: {backend: qemu}\n"),
			    "boards/x.yaml:3:10: private: must be true or false, not a string\n");
	assert_string_equal(check("name: b1\narch: x\npower: {backend: qemu, port: 99}\n"),
			    "boards/x.yaml:3:30: power.port: 99 is out of range (1 to 48)\n");
}

static void test_unknown_field(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: x\npower: {backend: qemu}\npowr: 1\n"),
			    "boards/x.yaml:4:1: powr: unknown field (known: name, arch, tags, "
			    "private, power, consoles)\n");
}

static void test_missing_field(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: x\npower:\n  port: 3\n"),
			    "boards/x.yaml:4:3: power: missing required field \"backend\"\n");
	assert_string_equal(check("name: b1\npower: {backend: qemu}\n"),
			    "boards/x.yaml:1:1: missing required field \"arch\"\n");
}

static void test_array_elements(void **state)
{
	(void)state;
	assert_string_equal(check("name: b1\narch: x\npower: {backend: qemu}\n"
				  "consoles:\n  - backend: qemu\n  - port: 2\n"),
			    "boards/x.yaml:6:5: consoles[1]: missing required field \"backend\"\n");
	assert_string_equal(check("name: b1\narch: x\npower: {backend: qemu}\ntags: [a, 3]\n"),
			    "boards/x.yaml:4:11: tags[1]: must be a string, not an integer\n");
}

static void test_refused_documents(void **state)
{
	const char *msg;

	(void)state;
	msg = check("a: &x 1\nb: *x\n");
	assert_non_null(strstr(msg, "aliases"));
	msg = check("a: 1\n---\nb: 2\n");
	assert_non_null(strstr(msg, "only one YAML document"));
	assert_string_equal(check("- 1\n- 2\n"),
			    "boards/x.yaml:1:1: the document must be a mapping, not a list\n");
	msg = check("{? [a]: 1}\n");
	assert_non_null(strstr(msg, "mapping keys must be plain strings"));
}

static void test_depth_limit(void **state)
{
	char text[400];
	size_t i;
	const char *msg;

	(void)state;
	for (i = 0; i < 100; i++)
		text[i] = '[';
	text[100] = '\0';
	msg = check(text);
	assert_non_null(strstr(msg, "nested too deep"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types_and_positions), cmocka_unit_test(test_valid_board),
	    cmocka_unit_test(test_unknown_backend),	cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_duplicate_key),	cmocka_unit_test(test_wrong_type),
	    cmocka_unit_test(test_unknown_field),	cmocka_unit_test(test_missing_field),
	    cmocka_unit_test(test_array_elements),	cmocka_unit_test(test_refused_documents),
	    cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
