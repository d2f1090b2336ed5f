/* Unit tests of self-update's pure parts: the spec's update: section (lib/spec/update.c)
 * and the rollout waves (lib/update/rollout.c): buckets, the signed timestamp, which
 * wave is open and who is in it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/spec.h>
#include <lethe/update.h>

#define HEAD                                                                                       \
	"name: t\nversion: '1'\npackages: [busybox-static]\n"                                      \
	"kernel: {package: linux-image-cloud-amd64}\n"                                             \
	"files: [{source: k.pub, destination: /etc/lethe/update.pub}]\n"                           \
	"boot: {layout: ab}\n"

static struct lethe_spec *parse(const char *text)
{
	struct lethe_spec *spec = NULL;

	assert_int_equal(lethe_spec_parse("t.yaml", NULL, text, strlen(text), &spec), 0);
	return spec;
}

static void test_spec_update(void **state)
{
	struct lethe_spec *spec;
	char *url = NULL;

	(void)state;
	spec = parse(HEAD "update:\n  source: https://u.example/lethe/\n  channel: stable\n"
			  "  waves: [5, 25, 100]\n  wait: 12h\n");
	assert_non_null(spec->update);
	assert_string_equal(spec->update->source, "https://u.example/lethe/");
	assert_int_equal(spec->update->n_waves, 3);
	assert_int_equal(spec->update->waves[1], 25);
	assert_int_equal(spec->update->wait, 12 * 3600);
	assert_int_equal(lethe_spec_update_url(spec->update, &url), 0);
	assert_string_equal(url, "https://u.example/lethe/stable/");
	free(url);
	/* lethe-update's libraries come from the image's packages. */
	assert_true(lethe_strv_contains(&spec->packages, "libcurl4"));
	assert_true(lethe_strv_contains(&spec->packages, "libfdisk1"));
	assert_true(lethe_strv_contains(&spec->packages, "mtools"));
	spec = lethe_spec_free(spec);

	spec = parse(HEAD "update:\n  source: oci://reg.example:5000/lethe/kiosk\n"
			  "  channel: v2\n");
	assert_int_equal(lethe_spec_update_url(spec->update, &url), 0);
	assert_string_equal(url, "oci://reg.example:5000/lethe/kiosk:v2");
	assert_int_equal(spec->update->n_waves, 0);
	free(url);
	spec = lethe_spec_free(spec);

	spec = parse(HEAD "update:\n  source: oci://reg.example/lethe/kiosk:stable\n");
	assert_int_equal(lethe_spec_update_url(spec->update, &url), 0);
	assert_string_equal(url, "oci://reg.example/lethe/kiosk:stable");
	free(url);
	spec = lethe_spec_free(spec);

	spec = parse(HEAD "update:\n  source: http://127.0.0.1:8080/r/\n  waves: [100]\n");
	assert_int_equal(spec->update->n_waves, 1);
	spec = lethe_spec_free(spec);

	spec = parse(HEAD);
	assert_null(spec->update);
	assert_false(lethe_strv_contains(&spec->packages, "libcurl4"));
	spec = lethe_spec_free(spec);

	static const char *const bad[] = {
		HEAD "update:\n  channel: x\n",					 /* no source */
		HEAD "update:\n  source: ftp://u.example/\n",			 /* scheme */
		HEAD "update:\n  source: https://u.example/lethe\n",		 /* no '/' */
		HEAD "update:\n  source: http://u.example/lethe/\n",		 /* not loopback */
		HEAD "update:\n  source: oci://reg.example/lethe/kiosk\n",	 /* no tag */
		HEAD "update:\n  source: oci://reg.example/a:1\n  channel: b\n", /* two tags */
		HEAD "update:\n  source: https://u/\n  channel: ../x\n",
		HEAD "update:\n  source: https://u/\n  waves: [10, 50]\n  wait: 1d\n", /* not 100 */
		HEAD "update:\n  source: https://u/\n  waves: [50, 10, 100]\n  wait: 1d\n",
		HEAD "update:\n  source: https://u/\n  waves: [0, 100]\n  wait: 1d\n",
		HEAD "update:\n  source: https://u/\n  waves: [10, 100]\n", /* no wait */
		HEAD "update:\n  source: https://u/\n  waves: [10, 100]\n  wait: 1w\n",
		HEAD "update:\n  source: https://u/\n  wait: 1d\n", /* wait without waves */
		HEAD "update:\n  source: https://u/\n  sorce: x\n",
		HEAD "drop: [mtools]\nupdate:\n  source: https://u/\n",
		/* no key in files: */
		"name: t\nversion: '1'\npackages: [b]\nkernel: {package: k}\nboot: {layout: ab}\n"
		"update:\n  source: https://u/\n",
		/* not an A/B image */
		"name: t\nversion: '1'\npackages: [b]\n"
		"files: [{source: k.pub, destination: /etc/lethe/update.pub}]\n"
		"update:\n  source: https://u/\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		spec = NULL;
		assert_int_equal(lethe_spec_parse("t.yaml", NULL, bad[i], strlen(bad[i]), &spec),
				 -EBADMSG);
		assert_null(spec);
	}
}

static void test_rollout(void **state)
{
	struct lethe_spec_update u = { .waves = { 10, 50, 100 }, .n_waves = 3, .wait = 86400 };
	struct lethe_rollout r;
	int64_t t0 = 1700000000, ts;
	unsigned seen[100] = { 0 };

	(void)state;
	/* Stable, and spread over the fleet. */
	assert_int_equal(lethe_rollout_bucket("abc"), lethe_rollout_bucket("abc"));
	/* One machine however its UUID is spelled (SMBIOS, --machine-id, /etc/machine-id). */
	assert_int_equal(lethe_rollout_bucket("1B4E28BA-2FA1-11D2-883F-0016D3CCA427"),
			 lethe_rollout_bucket("1b4e28ba2fa111d2883f0016d3cca427\n"));
	for (int i = 0; i < 2000; i++) {
		char id[32];

		snprintf(id, sizeof(id), "machine-%d", i);
		seen[lethe_rollout_bucket(id)]++;
	}
	for (int i = 0; i < 100; i++)
		assert_true(seen[i] > 0 && seen[i] < 60);

	/* A machine in bucket b < 10 is in at once, one in 10..49 after a day, the rest
	 * after two; a release "from the future" has only its first wave open. */
	for (int i = 0; i < 2000; i++) {
		char id[32];
		unsigned b;

		snprintf(id, sizeof(id), "machine-%d", i);
		b = lethe_rollout_bucket(id);
		lethe_rollout_decide(&u, id, t0, t0 + 60, &r);
		assert_int_equal(r.bucket, b);
		assert_int_equal(r.open, 0);
		assert_int_equal(r.percent, 10);
		assert_int_equal(r.in, b < 10);
		assert_int_equal(r.wave, b < 10 ? 0 : b < 50 ? 1 : 2);
		assert_int_equal(r.at, t0 + 86400 * r.wave);
		lethe_rollout_decide(&u, id, t0, t0 + 86400, &r);
		assert_int_equal(r.in, b < 50);
		lethe_rollout_decide(&u, id, t0, t0 + 100 * 86400, &r);
		assert_true(r.in);
		assert_int_equal(r.open, 2);
		lethe_rollout_decide(&u, id, t0, t0 - 5 * 86400, &r);
		assert_int_equal(r.open, 0);
	}
	/* No machine id: the last wave. */
	lethe_rollout_decide(&u, NULL, t0, t0 + 86400, &r);
	assert_false(r.known);
	assert_int_equal(r.bucket, 99);
	assert_false(r.in);
	lethe_rollout_decide(&u, NULL, t0, t0 + 2 * 86400, &r);
	assert_true(r.in);
	/* No waves: everyone. */
	lethe_rollout_decide(NULL, "x", t0, t0, &r);
	assert_true(r.in);

	/* The trusted comment's timestamp, as lethe sign and minisign write it. */
	assert_int_equal(lethe_rollout_timestamp("timestamp:1700000000\tfile:SHA256SUMS", &ts), 0);
	assert_int_equal(ts, 1700000000);
	assert_int_equal(lethe_rollout_timestamp("x\ttimestamp:42\tfile:a", &ts), 0);
	assert_int_equal(ts, 42);
	assert_int_equal(lethe_rollout_timestamp("file:a notimestamp:5", &ts), -ENOENT);
	assert_int_equal(lethe_rollout_timestamp("timestamp:", &ts), -ENOENT);
	assert_int_equal(lethe_rollout_timestamp("", &ts), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_update),
		cmocka_unit_test(test_rollout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
