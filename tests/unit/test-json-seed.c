/* lib/util/json-seed.c: before the CRNG is ready, json-c's new hash tables use the
 * unseeded string hash (no /dev/urandom read that would wait for entropy), and
 * jansson's seed function is found (it is loaded with libnftables); when the CRNG is
 * ready nothing changes. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <json-c/linkhash.h>

#include <lethe/util.h>

static lh_hash_fn *hash_of_new_object(void)
{
	json_object *o = json_object_new_object();
	lh_hash_fn *fn;

	assert_non_null(o);
	fn = json_object_get_object(o)->hash_fn;
	json_object_put(o);
	return fn;
}

static void test_seed(void **state)
{
	lh_hash_fn *dflt = hash_of_new_object();

	(void)state;
	assert_false(lethe_json_seed_early_for(true));
	assert_ptr_equal(hash_of_new_object(), dflt);
	assert_true(lethe_json_seed_early_for(false));
	assert_ptr_not_equal(hash_of_new_object(), dflt);
	/* lethe loads jansson with libnftables; this test program may not: load it, as
	 * lethe-image has it, and see that the symbol the seeding looks for is there. */
	if (!dlsym(RTLD_DEFAULT, "json_object_seed"))
		(void)dlopen("libjansson.so.4", RTLD_NOW | RTLD_GLOBAL);
	assert_non_null(dlsym(RTLD_DEFAULT, "json_object_seed"));
	assert_true(lethe_json_seed_early_for(false));
	/* the tables still work */
	json_object *o = json_object_new_object();

	json_object_object_add(o, "a", json_object_new_int(1));
	json_object_object_add(o, "b", json_object_new_int(2));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "b")), 2);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_seed) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
