/* cli/junit: the JUnit XML of a flight, checked by an independent XML parser
 * (Python's ElementTree) for the usual schema shape: <testsuites> of <testsuite>
 * (name, tests, failures, errors, skipped that match their <testcase>s), each
 * <testcase> with classname and name and at most one failure/error/skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/junit.h"
#include "json-util.h"

static const char *flight =
    "{\"id\": 7, \"branch\": \"staging\", \"revision\": {\"commit\": \"abc\"},"
    " \"tuple\": {\"linux\": {\"commit\": \"abc\", \"moves\": true},"
    "  \"xen\": {\"commit\": \"def\", \"ref\": \"refs/heads/master\", \"moves\": false}},"
    " \"jobs\": ["
    "  {\"attempt\": 17, \"job\": \"smoke\", \"board\": \"qemu-x86_64\", \"verdict\": \"pass\","
    "   \"testcases\": [{\"name\": \"hypervisor type is xen\", \"result\": \"pass\"},"
    "                   {\"name\": \"evtchn <&> \\\"quoted\\\"\", \"result\": \"fail\"},"
    "                   {\"name\": \"skipped\\u0001one\", \"result\": \"skip\"}]},"
    "  {\"attempt\": 18, \"job\": \"smoke\", \"board\": \"qemu-arm64\", \"verdict\": \"fail\","
    "   \"reason\": \"failure xen-panic: Panic on CPU 0\", \"testcases\": []},"
    "  {\"attempt\": 19, \"job\": \"boot\", \"board\": \"qemu-arm64\", \"verdict\": \"infra\"},"
    "  {\"attempt\": 20, \"job\": \"long\", \"board\": \"qemu-x86_64\", \"state\": \"running\"}"
    "]}";

static const char *checker =
    "import sys, xml.etree.ElementTree as ET\n"
    "root = ET.parse(sys.argv[1]).getroot()\n"
    "assert root.tag == 'testsuites', root.tag\n"
    "tot = {k: 0 for k in ('tests', 'failures', 'errors', 'skipped')}\n"
    "names = []\n"
    "for s in root:\n"
    "    assert s.tag == 'testsuite' and s.get('name'), s.tag\n"
    "    cases = s.findall('testcase')\n"
    "    n = {'tests': len(cases), 'failures': 0, 'errors': 0, 'skipped': 0}\n"
    "    for c in cases:\n"
    "        assert c.get('classname') and c.get('name')\n"
    "        kids = [k.tag for k in c if k.tag != 'system-out']\n"
    "        assert len(kids) <= 1, kids\n"
    "        for k in kids:\n"
    "            n[{'failure': 'failures', 'error': 'errors', 'skipped': 'skipped'}[k]] += 1\n"
    "    for k in n:\n"
    "        assert int(s.get(k)) == n[k], (s.get('name'), k, s.get(k), n[k])\n"
    "        tot[k] += n[k]\n"
    "    names.append('%s:%d/%d/%d/%d' % (s.get('name'), n['tests'], n['failures'], n['errors'], "
    "n['skipped']))\n"
    "for k in tot:\n"
    "    assert int(root.get(k)) == tot[k], k\n"
    "print(' '.join(names))\n";

static void test_junit_shape(void **state)
{
	char err[128], xml[] = "/tmp/xenci-junit.XXXXXX", py[] = "/tmp/xenci-junit-py.XXXXXX";
	char cmd[256], line[512] = "";
	struct buf b = BUF_INIT(0);
	json_t *f = json_parse(flight, strlen(flight), err, sizeof(err));
	FILE *fp;
	int fd;

	(void)state;
	assert_non_null(f);
	assert_int_equal(junit_render(&b, f, "http://ci.example.org"), 0);
	assert_non_null(strstr(b.data, "name=\"evtchn &lt;&amp;&gt; &quot;quoted&quot;\""));
	assert_non_null(strstr(b.data, "name=\"skipped\xef\xbf\xbdone\""));
	/* the whole tuple: each tree's commit, and where a pinned one was taken */
	assert_non_null(strstr(b.data, "<property name=\"tree.linux\" value=\"abc\"/>"));
	assert_non_null(strstr(b.data, "<property name=\"tree.xen\" value=\"def\"/>"));
	assert_non_null(
	    strstr(b.data, "<property name=\"tree.xen.pinned\" value=\"refs/heads/master\"/>"));
	assert_null(strstr(b.data, "tree.linux.pinned"));
	assert_non_null(strstr(b.data, "<failure type=\"fail\" message=\"failure xen-panic: Panic "
				       "on CPU 0\"/>"));
	assert_non_null(strstr(b.data, "log: http://ci.example.org/attempts/18"));
	fd = mkstemp(xml);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	fd = mkstemp(py);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, checker, strlen(checker)), (ssize_t)strlen(checker));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s %s 2>&1", py, xml);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_int_equal(pclose(fp), 0);
	/* x86_64: 3 cases + smoke verdict + long verdict (1 fail, 2 skipped);
	 * arm64: smoke verdict (fail) + boot verdict (infra error). */
	assert_string_equal(line, "qemu-x86_64:5/1/0/2 qemu-arm64:2/1/1/0\n");
	unlink(xml);
	unlink(py);
	buf_release(&b);
	json_decref(f);
}

/* A failure that matched a known issue (the flight's triage row of its attempt)
 * says so: a testsuite property and the failure's message; a row without one
 * adds nothing. */
static void test_junit_known_issue(void **state)
{
	static const char text[] =
	    "{\"id\": 8, \"branch\": \"staging\", \"revision\": {\"commit\": \"abc\"},"
	    " \"jobs\": ["
	    "  {\"attempt\": 21, \"job\": \"smoke\", \"board\": \"q1\", \"verdict\": \"fail\","
	    "   \"reason\": \"failure oops\"},"
	    "  {\"attempt\": 22, \"job\": \"guest\", \"board\": \"q1\", \"verdict\": \"fail\","
	    "   \"reason\": \"failure other\"}],"
	    " \"triage\": ["
	    "  {\"attempt\": 21, \"job\": \"smoke\", \"known_issue\": {\"id\": \"KI-7\","
	    "   \"label\": \"ACPI <noise>\", \"link\": \"https://e.org/7\", \"blocks\": false}},"
	    "  {\"attempt\": 22, \"job\": \"guest\", \"known_issue\": null}]}";
	char err[128];
	struct buf b = BUF_INIT(0);
	json_t *f = json_parse(text, strlen(text), err, sizeof(err));

	(void)state;
	assert_non_null(f);
	assert_int_equal(junit_render(&b, f, NULL), 0);
	assert_non_null(strstr(b.data, "<property name=\"known_issue.smoke\" value=\"KI-7: ACPI "
				       "&lt;noise&gt; https://e.org/7\"/>"));
	assert_non_null(strstr(b.data, "<failure type=\"fail\" message=\"failure oops [known "
				       "issue KI-7: ACPI &lt;noise&gt;]\"/>"));
	assert_null(strstr(b.data, "known_issue.guest"));
	assert_non_null(strstr(b.data, "message=\"failure other\"/>"));
	buf_release(&b);
	json_decref(f);
}

/* The controller's own flight read: attempts, with an infra retry that passed. */
static void test_junit_from_attempts(void **state)
{
	const char *text =
	    "{\"id\": 8, \"commit\": \"c0ffee\", \"attempts\": ["
	    " {\"id\": 1, \"kind\": \"build\", \"arch\": \"x86_64\", \"state\": \"pass\"},"
	    " {\"id\": 2, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"qx\","
	    "  \"number\": 1, \"state\": \"infra\"},"
	    " {\"id\": 3, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"qx\","
	    "  \"number\": 2, \"state\": \"pass\","
	    "  \"testcases\": [{\"name\": \"a\", \"result\": \"pass\"}]}]}";
	char err[128];
	json_t *f = json_parse(text, strlen(text), err, sizeof(err));
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_non_null(f);
	assert_int_equal(junit_render(&b, f, NULL), 0);
	assert_non_null(strstr(b.data, "<testsuites name=\"xenci flight 8\" tests=\"2\" "
				       "failures=\"0\" errors=\"0\" skipped=\"0\">"));
	assert_non_null(strstr(b.data, "<property name=\"commit\" value=\"c0ffee\"/>"));
	assert_null(strstr(b.data, "<error"));
	buf_release(&b);
	json_decref(f);
}

/* Writes xml to a temporary file and runs "PROGRAM FILE"; returns its exit
 * status and its first output line. */
static int run_on(const struct buf *xml, const char *program, char *line, size_t len)
{
	char path[] = "/tmp/xenci-junit-x.XXXXXX", cmd[1024];
	FILE *fp;
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml->data, xml->len), (ssize_t)xml->len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", program, path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	line[0] = '\0';
	if (fgets(line, (int)len, fp) == NULL)
		line[0] = '\0';
	while (fgetc(fp) != EOF)
		;
	rc = pclose(fp);
	unlink(path);
	return rc;
}

/* Issue 14, input 5: test case names, reasons, board and job names with code
 * points XML 1.0 forbids (U+FFFE, U+FFFF, C0 controls) and bytes that are not
 * UTF-8 come out as U+FFFD, and the file passes a strict parser (xmllint),
 * the JUnit schema (tests/junit.xsd) and Python's ElementTree. */
static void test_junit_xml_chars(void **state)
{
	const char *root = getenv("XENCI_ROOT");
	json_t *f = json_pack(
	    "{s:i, s:s, s:[{s:i, s:s, s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}]}",
	    "id", 9, "branch", "main\xef\xbf\xbe", "jobs", "attempt", 3, "job", "smoke\x1b[1m",
	    "board", "qemu\xef\xbf\xbf", "verdict", "fail", "reason",
	    "failure: \x01\x02\x0b\x0c tab\there\r\nnext", "testcases", "name",
	    "evtchn \xef\xbf\xbe\xef\xbf\xbf", "result", "fail", "name",
	    "astral \xf0\x9f\x98\x80 private \xee\x80\x80 ok", "result", "pass", "name", "x",
	    "result", "skip");
	struct buf b = BUF_INIT(0);
	char line[512], cmd[512];

	(void)state;
	assert_non_null(f);
	/* bytes that are not UTF-8 (jansson holds them when told not to check) */
	json_object_set_new(
	    json_array_get(
		json_object_get(json_array_get(json_object_get(f, "jobs"), 0), "testcases"), 2),
	    "name", json_stringn_nocheck("bad \xff\xc3 \xed\xa0\x80 end", 14));
	assert_int_equal(junit_render(&b, f, NULL), 0);
	assert_non_null(strstr(b.data, "name=\"evtchn \xef\xbf\xbd\xef\xbf\xbd\""));
	assert_non_null(strstr(b.data, "name=\"qemu\xef\xbf\xbd\""));
	assert_non_null(strstr(b.data, "classname=\"smoke\xef\xbf\xbd[1m\""));
	assert_non_null(strstr(b.data, "message=\"failure: \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				       "\xef\xbf\xbd tab&#9;here&#13;&#10;next\""));
	assert_non_null(strstr(b.data, "astral \xf0\x9f\x98\x80 private \xee\x80\x80 ok"));
	assert_non_null(strstr(b.data, "name=\"bad \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd"
				       "\xef\xbf\xbd\xef\xbf\xbd end\""));
	/* a strict parser, and the schema */
	assert_int_equal(run_on(&b, "xmllint --noout", line, sizeof(line)), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema %s/tests/junit.xsd",
		 root ? root : ".");
	if (run_on(&b, cmd, line, sizeof(line)) != 0)
		fail_msg("schema: %s", line);
	assert_int_equal(run_on(&b,
				"python3 -c 'import sys, xml.etree.ElementTree as E; "
				"E.parse(sys.argv[1]); print(\"parsed\")'",
				line, sizeof(line)),
			 0);
	assert_string_equal(line, "parsed\n");
	buf_release(&b);
	json_decref(f);
}

/* The writer's other outputs against the schema too. */
static void test_junit_schema(void **state)
{
	const char *root = getenv("XENCI_ROOT");
	char err[128], line[512], cmd[512];
	struct buf b = BUF_INIT(0);
	json_t *f = json_parse(flight, strlen(flight), err, sizeof(err));

	(void)state;
	assert_int_equal(junit_render(&b, f, "http://ci.example.org"), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema %s/tests/junit.xsd",
		 root ? root : ".");
	if (run_on(&b, cmd, line, sizeof(line)) != 0)
		fail_msg("schema: %s", line);
	buf_release(&b);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_junit_shape),		cmocka_unit_test(test_junit_known_issue),
	    cmocka_unit_test(test_junit_from_attempts), cmocka_unit_test(test_junit_xml_chars),
	    cmocka_unit_test(test_junit_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
