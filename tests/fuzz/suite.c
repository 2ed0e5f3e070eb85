/* libFuzzer target: the benchmark suite-file parser (bench/suite.c).
 *
 * The input is suite text. Invariants:
 *   - suite_parse_text() returns 0 or -EINVAL; an error names "file:line"
 *     and leaves a sentence (never an empty message);
 *   - never more than SUITE_MAX_SCENARIOS scenarios;
 *   - every scenario it accepts has valid values (TLS 1.2/1.3, a known kind,
 *     conns > 0 but for hyperfine) and round-trips: scenario_to_line()
 *     parses back into exactly one scenario that prints the same line and
 *     gets the same id, and so does its JSON form (scenario_to_json /
 *     scenario_from_json). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct suite s = { 0 };
	char err[512], line[512], again[512];

	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	err[0] = 0;
	int rc = suite_parse_text(&s, text, "fuzz", err, sizeof err);
	if (rc != 0 && rc != -EINVAL)
		abort();
	if (rc == -EINVAL && (strncmp(err, "fuzz:", 5) || strlen(err) < 8))
		abort();
	if (s.n > SUITE_MAX_SCENARIOS)
		abort();
	for (size_t i = 0; rc == 0 && i < s.n && i < 64; i++) {
		const struct scenario *sc = &s.sc[i];
		if ((sc->tls != 12 && sc->tls != 13) || sc->kind >= SCEN_KIND_COUNT ||
		    (sc->kind != SCEN_HYPERFINE && sc->conns == 0))
			abort();
		if (scenario_to_line(sc, line, sizeof line))
			abort();
		struct suite one = { 0 };
		if (suite_parse_text(&one, line, "line", err, sizeof err) || one.n != 1)
			abort();
		if (scenario_to_line(&one.sc[0], again, sizeof again) || strcmp(line, again) ||
		    strcmp(one.sc[0].id, sc->id))
			abort();
		suite_free(&one);
		cJSON *j = scenario_to_json(sc);
		struct scenario back;
		if (!j || scenario_from_json(j, &back) || scenario_to_line(&back, again, sizeof again) ||
		    strcmp(line, again))
			abort();
		cJSON_Delete(j);
	}
	suite_free(&s);
	free(text);
	return 0;
}
