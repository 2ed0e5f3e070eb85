/* common/units.c: see units.h. */
#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Leading decimal digits only: no sign, no spaces, no base prefixes. */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

static int mul_checked(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m && v > UINT64_MAX / m)
		return -ERANGE;
	*out = v * m;
	return 0;
}

int units_parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_digits(s, &v, &end);
	if (rc)
		return rc;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	static const char sfx[] = "KMGT";
	const char *end, *pos;
	uint64_t v, m = 1;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_digits(s, &v, &end);
	if (rc)
		return rc;
	if (*end && *end != 'B') {
		pos = strchr(sfx, toupper((unsigned char)*end));
		if (!pos)
			return -EINVAL;
		for (const char *q = sfx; q <= pos; q++)
			m *= 1024;
		end++;
		if (strcmp(end, "iB") == 0)
			end += 2;
	}
	if (strcmp(end, "B") == 0)
		end++;
	if (*end)
		return -EINVAL;
	return mul_checked(v, m, bytes);
}

int units_parse_rate(const char *s, uint64_t *per_sec)
{
	const char *end;
	uint64_t v, m = 1;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_digits(s, &v, &end);
	if (rc)
		return rc;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': m = 1000; break;
		case 'M': m = 1000000; break;
		case 'G': m = 1000000000; break;
		default: return -EINVAL;
		}
		end++;
		/* optional "/s" */
		if (strcmp(end, "/s") == 0)
			end += 2;
	}
	if (*end)
		return -EINVAL;
	return mul_checked(v, m, per_sec);
}

int units_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *name; uint64_t ns; } u[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	const char *end;
	uint64_t v, frac = 0, fdiv = 1;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_digits(s, &v, &end);
	if (rc)
		return rc;
	if (*end == '.') {
		/* up to 9 fractional digits: "1.5s", "0.25" */
		end++;
		if (!isdigit((unsigned char)*end))
			return -EINVAL;
		while (isdigit((unsigned char)*end)) {
			if (fdiv >= 1000000000ULL)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*end - '0');
			fdiv *= 10;
			end++;
		}
	}
	if (!*end) {
		uint64_t whole;
		rc = mul_checked(v, 1000000000ULL, &whole);
		if (rc)
			return rc;
		*ns = whole + frac * (1000000000ULL / fdiv);
		return 0;
	}
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (strcmp(end, u[i].name) == 0) {
			uint64_t whole;
			rc = mul_checked(v, u[i].ns, &whole);
			if (rc)
				return rc;
			if (frac && (u[i].ns % fdiv) != 0)
				return -EINVAL; /* "1.5ns": below a nanosecond */
			uint64_t part = frac * (u[i].ns / fdiv);
			if (whole > UINT64_MAX - part)
				return -ERANGE;
			*ns = whole + part;
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int units_parse_list_u64(const char *s, uint64_t *vals, size_t max, size_t *n)
{
	size_t k = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		const char *end;
		uint64_t v;
		int rc = parse_digits(p, &v, &end);
		if (rc)
			return rc;
		if (k == max)
			return -ERANGE;
		vals[k++] = v;
		if (!*end)
			break;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
	*n = k;
	return 0;
}

char *units_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, u[i]);
	else
		snprintf(buf, len, "%.2f %s", v, u[i]);
	return buf;
}

char *units_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}
