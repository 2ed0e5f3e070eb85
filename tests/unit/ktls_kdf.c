/* Unit tests: ktls/secrets.c key derivation against independent oracles.
 *   - TLS 1.3: RFC 8448 section 3 (Simple 1-RTT): the printed application
 *     traffic secrets must expand to the printed keys and IVs.
 *   - TLS 1.3 "traffic upd": compared with plain HKDF-Expand (RFC 5869,
 *     OpenSSL's "HKDF", a different implementation from TLS13-KDF) fed an
 *     HkdfLabel this test builds by hand from RFC 8446 section 7.1.
 *   - TLS 1.2: the key block compared with the `openssl kdf` command-line
 *     tool's TLS1-PRF, given label and seed as RFC 5246 section 6.3 says.
 */
#include "ktls/internal.h"
#include "tests/tap.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	while (s[0] && s[1]) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void rfc8448(void)
{
	static const struct {
		const char *who, *secret, *key, *iv;
	} v[] = {
		{ "client", "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
		  "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9" },
		{ "server", "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
		  "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984" },
		/* the server handshake traffic secret expands the same way */
		{ "server handshake", "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
		  "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ktls_secret ts = { .len = 0 };
		uint8_t key[16], iv[12], want_key[16], want_iv[12];

		ts.len = (uint8_t)unhex(v[i].secret, ts.s);
		unhex(v[i].key, want_key);
		unhex(v[i].iv, want_iv);
		EXPECT_EQ(ktls_tls13_keys(EVP_sha256(), &ts, 16, key, iv), 0);
		OK(memcmp(key, want_key, 16) == 0, "RFC 8448 %s application key", v[i].who);
		OK(memcmp(iv, want_iv, 12) == 0, "RFC 8448 %s application iv", v[i].who);
	}
}

/* HKDF-Expand(secret, HkdfLabel) with OpenSSL's generic HKDF. */
static int hkdf_expand(const EVP_MD *md, const uint8_t *secret, size_t slen, const char *label,
		       uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t n = 0, ll = 6 + strlen(label);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, strlen(label));
	n += ll;
	info[n++] = 0; /* empty context */
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[] = {
		OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, info, n),
		OSSL_PARAM_END,
	};
	ok = EVP_KDF_derive(k, out, out_len, p) > 0;
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

static void traffic_upd(void)
{
	const EVP_MD *mds[] = { EVP_sha256(), EVP_sha384() };
	for (size_t m = 0; m < 2; m++) {
		struct ktls_secret ts;
		uint8_t want[48];
		size_t len = (size_t)EVP_MD_get_size(mds[m]);

		ts.len = (uint8_t)len;
		for (size_t i = 0; i < len; i++)
			ts.s[i] = (uint8_t)(i * 7 + 1);
		EXPECT_EQ(hkdf_expand(mds[m], ts.s, len, "traffic upd", want, len), 0);
		EXPECT_EQ(ktls_tls13_next_secret(mds[m], &ts), 0);
		EXPECT_EQ(ts.len, len);
		OK(memcmp(ts.s, want, len) == 0, "%s: next secret = HKDF-Expand(HkdfLabel \"tls13 traffic upd\")",
		   EVP_MD_get0_name(mds[m]));
		/* and key/iv of the next generation likewise */
		uint8_t key[32], iv[12], wk[32], wi[12];
		EXPECT_EQ(ktls_tls13_keys(mds[m], &ts, 32, key, iv), 0);
		hkdf_expand(mds[m], ts.s, len, "key", wk, 32);
		hkdf_expand(mds[m], ts.s, len, "iv", wi, 12);
		OK(memcmp(key, wk, 32) == 0 && memcmp(iv, wi, 12) == 0, "%s: key and iv of the next generation",
		   EVP_MD_get0_name(mds[m]));
	}
}

static void tls12_block(const char *digest, const EVP_MD *md, size_t len)
{
	uint8_t master[48], cr[32], sr[32], got[88], want[88];
	char mhex[97], seedhex[2 * (13 + 64) + 1], cmd[1024], line[512];
	uint8_t seed[13 + 64];

	for (int i = 0; i < 48; i++)
		master[i] = (uint8_t)(0xa0 ^ i);
	for (int i = 0; i < 32; i++) {
		cr[i] = (uint8_t)(i + 1);
		sr[i] = (uint8_t)(0xff - i);
	}
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, sr, 32);
	memcpy(seed + 45, cr, 32);
	hex(master, 48, mhex);
	hex(seed, sizeof(seed), seedhex);
	snprintf(cmd, sizeof(cmd), "openssl kdf -keylen %zu -kdfopt digest:%s -kdfopt hexsecret:%s "
		 "-kdfopt hexseed:%s TLS1-PRF 2>&1", len, digest, mhex, seedhex);
	FILE *f = popen(cmd, "r");
	size_t n = 0;
	if (f && fgets(line, sizeof(line), f)) {
		/* "AB:CD:..." */
		for (char *p = line; n < len && p[0] && p[1]; p += 3) {
			unsigned v;
			if (sscanf(p, "%2x", &v) != 1)
				break;
			want[n++] = (uint8_t)v;
		}
	}
	if (f)
		pclose(f);
	EXPECT_EQ(n, len);
	EXPECT_EQ(ktls_tls12_key_block(md, master, 48, cr, sr, got, len), 0);
	OK(n == len && memcmp(got, want, len) == 0, "TLS 1.2 key block (%s, %zu bytes) = openssl kdf TLS1-PRF",
	   digest, len);
}

int main(void)
{
	rfc8448();
	traffic_upd();
	tls12_block("SHA256", EVP_sha256(), 40);  /* AES-128-GCM: 2x16 key + 2x4 salt */
	tls12_block("SHA384", EVP_sha384(), 72);  /* AES-256-GCM: 2x32 + 2x4 */
	tls12_block("SHA256", EVP_sha256(), 88);  /* CHACHA20: 2x32 + 2x12 */
	return tap_done();
}
