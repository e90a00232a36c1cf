/* lib/boot-quote: command lines written for each firmware's script, or refused
 * with the reason and the byte. The firmware themselves read these scripts in
 * tests/integration/test-netboot-firmware.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "boot-quote.h"
#include "buf.h"

#define DYNDBG "console=hvc0 dyndbg=\"file drivers/xen/* +p\" a=$x b;c"

/* value quoted for s: the result, or NULL when refused (*at, why set). */
static const char *q(enum boot_syntax s, const char *value, size_t *at, char *why)
{
	static struct buf out = BUF_INIT(4096);

	buf_reset(&out);
	why[0] = '\0';
	if (boot_quote(&out, s, value, at, why, 256) < 0) {
		assert_int_equal(out.len, 0);
		return NULL;
	}
	return buf_cstr(&out);
}

static void test_uboot(void **state)
{
	char why[256];
	size_t at = 99;

	(void)state;
	assert_string_equal(q(BOOT_UBOOT, DYNDBG, &at, why), "'" DYNDBG "'");
	assert_string_equal(q(BOOT_UBOOT, "it's ${x} #y", &at, why), "'it'\\''s ${x} #y'");
	assert_string_equal(q(BOOT_UBOOT, "", &at, why), "''");
	assert_null(q(BOOT_UBOOT, "a b\\c", &at, why));
	assert_int_equal(at, 3);
	assert_non_null(strstr(why, "backslash"));
	assert_null(q(BOOT_UBOOT, "<0x1>", &at, why));
	assert_int_equal(at, 0);
	assert_non_null(strstr(why, "fdt set"));
	assert_null(q(BOOT_UBOOT, "a\nb", &at, why));
	assert_int_equal(at, 1);
	assert_non_null(strstr(why, "control character"));
}

static void test_ipxe(void **state)
{
	char why[256];
	size_t at = 99;

	(void)state;
	assert_string_equal(q(BOOT_IPXE, DYNDBG " x||y ${z e#f 'q' \xc3\xa9", &at, why),
			    DYNDBG " x||y ${z e#f 'q' \xc3\xa9");
	assert_string_equal(q(BOOT_IPXE, " a b ", &at, why), " a b ");
	assert_null(q(BOOT_IPXE, "a  b", &at, why));
	assert_int_equal(at, 1);
	assert_null(q(BOOT_IPXE, "a\tb", &at, why));
	assert_null(q(BOOT_IPXE, "a || b", &at, why));
	assert_int_equal(at, 2);
	assert_null(q(BOOT_IPXE, "a ; b", &at, why));
	assert_null(q(BOOT_IPXE, "a && b", &at, why));
	assert_null(q(BOOT_IPXE, "a #b", &at, why));
	assert_int_equal(at, 2);
	assert_non_null(strstr(why, "comment"));
	assert_null(q(BOOT_IPXE, "a=${net0/mac}", &at, why));
	assert_int_equal(at, 2);
	assert_null(q(BOOT_IPXE, "a\\", &at, why));
	assert_non_null(strstr(why, "continuation"));
}

static void test_grub_pxelinux(void **state)
{
	char why[256];
	size_t at = 99;

	(void)state;
	assert_string_equal(q(BOOT_GRUB, "console=hvc0 a=$x;y {z}", &at, why),
			    "'console=hvc0' 'a=$x;y' '{z}'");
	assert_string_equal(q(BOOT_GRUB, "", &at, why), "");
	assert_null(q(BOOT_GRUB, DYNDBG, &at, why));
	assert_int_equal(at, 20);
	assert_non_null(strstr(why, "GRUB"));
	assert_null(q(BOOT_GRUB, "a  b", &at, why));
	assert_string_equal(q(BOOT_PXELINUX, DYNDBG " #x 'y'", &at, why), DYNDBG " #x 'y'");
	assert_null(q(BOOT_PXELINUX, "a --- b", &at, why));
	assert_int_equal(at, 2);
	assert_non_null(strstr(why, "mboot.c32"));
	assert_null(q(BOOT_PXELINUX, "a\rb", &at, why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uboot),
	    cmocka_unit_test(test_ipxe),
	    cmocka_unit_test(test_grub_pxelinux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
