/*
 * test_did_key.c — did:key for Ed25519 keys (include/ecl/did_key.h).
 *
 * The vectors were computed outside this code (a plain big-integer base58
 * in Python); the first is the did:key from docs/sql-api.md, whose key the
 * docs print.
 */
#include <stdint.h>

#include "ecl/did_key.h"
#include "unit.h"

static const char *const doc_did =
"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
static const uint8_t doc_key[ECL_ED25519_PUBLIC_KEY_BYTES] = {
	0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8, 0xd0,
	0x2a, 0x6f, 0x0d, 0x73, 0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6,
	0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29
};

static ecl_did_key_status
decode(const char *did, uint8_t key[ECL_ED25519_PUBLIC_KEY_BYTES])
{
	return ecl_did_key_decode(did, strlen(did), key);
}

UNIT_TEST(did_key_known_vectors)
{
	static const struct
	{
		uint8_t		first;		/* key bytes: first, first+step, ... */
		uint8_t		step;
		const char *did;
	}			cases[] = {
		{0x00, 0, "did:key:z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnP"},
		{0x01, 1, "did:key:z6MkeXCES4onVW4up9Qgz1KRnZsKmGufcaZxF6Zpv2w5QwUK"},
		{0xff, 0, "did:key:z6MkwgaR63138bEEgad7uk993KMX54vBA6KTB4sFhCPnSB2e"},
	};
	char		buf[ECL_DID_KEY_BUFSIZE];
	uint8_t		key[ECL_ED25519_PUBLIC_KEY_BYTES];
	uint8_t		back[ECL_ED25519_PUBLIC_KEY_BYTES];

	UNIT_ASSERT_EQ_INT(ecl_did_key_encode(doc_key, buf, sizeof(buf)), strlen(doc_did));
	UNIT_ASSERT_EQ_STR(buf, doc_did);
	UNIT_ASSERT_EQ_INT(decode(doc_did, back), ECL_DID_KEY_OK);
	UNIT_ASSERT(memcmp(back, doc_key, sizeof(back)) == 0);

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		for (int i = 0; i < ECL_ED25519_PUBLIC_KEY_BYTES; i++)
			key[i] = (uint8_t) (cases[c].first + i * cases[c].step);
		UNIT_ASSERT(ecl_did_key_encode(key, buf, sizeof(buf)) > 0);
		UNIT_ASSERT_EQ_STR(buf, cases[c].did);
		UNIT_ASSERT_EQ_INT(decode(cases[c].did, back), ECL_DID_KEY_OK);
		UNIT_ASSERT(memcmp(back, key, sizeof(back)) == 0);
	}
}

UNIT_TEST(did_key_round_trips)
{
	char		buf[ECL_DID_KEY_BUFSIZE];
	uint8_t		key[ECL_ED25519_PUBLIC_KEY_BYTES];
	uint8_t		back[ECL_ED25519_PUBLIC_KEY_BYTES];
	uint32_t	x = 12345;

	for (int round = 0; round < 200; round++)
	{
		size_t		len;

		for (int i = 0; i < ECL_ED25519_PUBLIC_KEY_BYTES; i++)
		{
			x = x * 1103515245u + 12345u;
			key[i] = (uint8_t) (x >> 16);
		}
		len = ecl_did_key_encode(key, buf, sizeof(buf));
		UNIT_ASSERT_EQ_INT(len, strlen(buf));
		UNIT_ASSERT_MSG(strncmp(buf, "did:key:z6Mk", 12) == 0, "round %d: %s", round, buf);
		UNIT_ASSERT_EQ_INT(ecl_did_key_decode(buf, len, back), ECL_DID_KEY_OK);
		UNIT_ASSERT_MSG(memcmp(back, key, sizeof(key)) == 0, "round %d: %s", round, buf);
	}
}

UNIT_TEST(did_key_encode_needs_room)
{
	char		buf[ECL_DID_KEY_BUFSIZE];

	UNIT_ASSERT_EQ_INT(ecl_did_key_encode(doc_key, buf, strlen(doc_did)), 0);
	UNIT_ASSERT_EQ_INT(ecl_did_key_encode(doc_key, buf, strlen(doc_did) + 1), strlen(doc_did));
}

UNIT_TEST(did_key_decode_reads_only_len_bytes)
{
	uint8_t		back[ECL_ED25519_PUBLIC_KEY_BYTES];
	char		padded[ECL_DID_KEY_BUFSIZE + 8];

	snprintf(padded, sizeof(padded), "%sXYZ", doc_did);
	UNIT_ASSERT_EQ_INT(ecl_did_key_decode(padded, strlen(doc_did), back), ECL_DID_KEY_OK);
	UNIT_ASSERT(memcmp(back, doc_key, sizeof(back)) == 0);
	/* the same bytes with the trailing digits counted are something else */
	UNIT_ASSERT(ecl_did_key_decode(padded, strlen(padded), back) != ECL_DID_KEY_OK);
}

UNIT_TEST(did_key_rejects_bad_input)
{
	static const struct
	{
		const char *did;
		ecl_did_key_status expected;
	}			cases[] = {
		/* not the did:key method */
		{"", ECL_DID_KEY_NOT_DID_KEY},
		{"did:web:example.com", ECL_DID_KEY_NOT_DID_KEY},
		{"DID:KEY:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ECL_DID_KEY_NOT_DID_KEY},
		/* multibase other than base58btc ('z'): base32 'b', base64 'm', none */
		{"did:key:b6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ECL_DID_KEY_NOT_BASE58BTC},
		{"did:key:mO2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik", ECL_DID_KEY_NOT_BASE58BTC},
		{"did:key:", ECL_DID_KEY_NOT_BASE58BTC},
		/* characters outside the Bitcoin alphabet (0 O I l), and none at all */
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", ECL_DID_KEY_BAD_CHARACTER},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWO", ECL_DID_KEY_BAD_CHARACTER},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWI", ECL_DID_KEY_BAD_CHARACTER},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWl", ECL_DID_KEY_BAD_CHARACTER},
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo+p", ECL_DID_KEY_BAD_CHARACTER},
		/* 31 and 33 key bytes after the ed25519-pub header */
		{"did:key:z2DQUz8yxybcgY49o2TDENNPqPQBbVynuU6CcNCWtSMrwMx", ECL_DID_KEY_BAD_LENGTH},
		{"did:key:zQebecGaHdoVnoJG767ZUcQLQ857pRDTS3ASqDZtV5XgUfRZ2", ECL_DID_KEY_BAD_LENGTH},
		{"did:key:z", ECL_DID_KEY_BAD_LENGTH},
		/* a leading '1' (a zero byte in front): not the canonical encoding */
		{"did:key:z16MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ECL_DID_KEY_BAD_LENGTH},
		/* one more digit: the number is 58 times larger, 35 bytes */
		{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp", ECL_DID_KEY_BAD_LENGTH},
		/* the right length but multicodec x25519-pub (0xec 0x01), not ed25519 */
		{"did:key:z6LSbk7MN8NDFRJBo2wkq5sYG4XonrAvuJVkS4NaaDcbD6Th", ECL_DID_KEY_NOT_ED25519},
	};
	uint8_t		back[ECL_ED25519_PUBLIC_KEY_BYTES];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		ecl_did_key_status st = decode(cases[c].did, back);

		UNIT_ASSERT_MSG(st == cases[c].expected, "%s: status %d, expected %d (%s)",
						cases[c].did, (int) st, (int) cases[c].expected,
						ecl_did_key_status_message(st));
		UNIT_ASSERT(ecl_did_key_status_message(st) != NULL);
	}
}
