/*
 * did_key.c — did:key encoding and decoding for Ed25519 public keys.
 *
 * Base58 treats the byte string as one big-endian number written in base 58;
 * each leading zero byte is written as the digit '1'.  Our payload always
 * starts with 0xed, so a canonical did:key never has a leading '1'.
 */
#include "ecl/did_key.h"

#include <string.h>

static const char did_key_prefix[] = "did:key:";

#define DID_KEY_PREFIX_LEN (sizeof(did_key_prefix) - 1)

/* multicodec "ed25519-pub" (0xed) as an unsigned varint */
static const uint8_t ed25519_multicodec[2] = {0xed, 0x01};

#define PAYLOAD_BYTES (2 + ECL_ED25519_PUBLIC_KEY_BYTES)

static const char base58_alphabet[] =
"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* digit value of an ASCII character, or -1 */
static int
base58_digit(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(base58_alphabet, c);
	return p ? (int) (p - base58_alphabet) : -1;
}

size_t
ecl_did_key_encode(const uint8_t public_key[ECL_ED25519_PUBLIC_KEY_BYTES],
				   char *out, size_t outsize)
{
	uint8_t		payload[PAYLOAD_BYTES];

	/*
	 * Base58 digits, least significant first.  log(256)/log(58) < 1.37, so
	 * 34 bytes need at most 47 digits.
	 */
	uint8_t		digits[48];
	size_t		ndigits = 0;
	size_t		len;
	size_t		i;

	memcpy(payload, ed25519_multicodec, sizeof(ed25519_multicodec));
	memcpy(payload + sizeof(ed25519_multicodec), public_key,
		   ECL_ED25519_PUBLIC_KEY_BYTES);

	/* digits = digits * 256 + byte, for each byte of the payload */
	for (i = 0; i < PAYLOAD_BYTES; i++)
	{
		unsigned int carry = payload[i];
		size_t		j;

		for (j = 0; j < ndigits; j++)
		{
			carry += (unsigned int) digits[j] << 8;
			digits[j] = carry % 58;
			carry /= 58;
		}
		while (carry > 0)
		{
			digits[ndigits++] = carry % 58;
			carry /= 58;
		}
	}

	/* the payload starts with 0xed: no leading zero bytes to write as '1' */
	len = DID_KEY_PREFIX_LEN + 1 + ndigits;
	if (outsize < len + 1)
		return 0;

	memcpy(out, did_key_prefix, DID_KEY_PREFIX_LEN);
	out[DID_KEY_PREFIX_LEN] = 'z';
	for (i = 0; i < ndigits; i++)
		out[DID_KEY_PREFIX_LEN + 1 + i] = base58_alphabet[digits[ndigits - 1 - i]];
	out[len] = '\0';
	return len;
}

ecl_did_key_status
ecl_did_key_decode(const char *did, size_t len,
				   uint8_t public_key[ECL_ED25519_PUBLIC_KEY_BYTES])
{
	uint8_t		payload[PAYLOAD_BYTES];
	const char *digits;
	size_t		ndigits;
	size_t		i;

	if (len < DID_KEY_PREFIX_LEN ||
		memcmp(did, did_key_prefix, DID_KEY_PREFIX_LEN) != 0)
		return ECL_DID_KEY_NOT_DID_KEY;
	if (len == DID_KEY_PREFIX_LEN || did[DID_KEY_PREFIX_LEN] != 'z')
		return ECL_DID_KEY_NOT_BASE58BTC;

	digits = did + DID_KEY_PREFIX_LEN + 1;
	ndigits = len - DID_KEY_PREFIX_LEN - 1;
	if (ndigits == 0)
		return ECL_DID_KEY_BAD_LENGTH;

	/* payload = payload * 58 + digit, refusing anything beyond 34 bytes */
	memset(payload, 0, sizeof(payload));
	for (i = 0; i < ndigits; i++)
	{
		int			d = base58_digit((unsigned char) digits[i]);
		unsigned int carry;
		size_t		j;

		if (d < 0)
			return ECL_DID_KEY_BAD_CHARACTER;
		carry = (unsigned int) d;
		for (j = PAYLOAD_BYTES; j-- > 0;)
		{
			carry += 58u * payload[j];
			payload[j] = carry & 0xff;
			carry >>= 8;
		}
		if (carry != 0)
			return ECL_DID_KEY_BAD_LENGTH;
	}

	/*
	 * A leading '1' stands for an extra leading zero byte, which makes the
	 * payload longer than 34 bytes; a short number leaves payload[0] zero.
	 */
	if (digits[0] == '1' || payload[0] == 0)
		return ECL_DID_KEY_BAD_LENGTH;
	if (memcmp(payload, ed25519_multicodec, sizeof(ed25519_multicodec)) != 0)
		return ECL_DID_KEY_NOT_ED25519;

	memcpy(public_key, payload + sizeof(ed25519_multicodec),
		   ECL_ED25519_PUBLIC_KEY_BYTES);
	return ECL_DID_KEY_OK;
}

const char *
ecl_did_key_status_message(ecl_did_key_status status)
{
	switch (status)
	{
		case ECL_DID_KEY_OK:
			return "valid did:key";
		case ECL_DID_KEY_NOT_DID_KEY:
			return "does not start with \"did:key:\"";
		case ECL_DID_KEY_NOT_BASE58BTC:
			return "multibase prefix must be 'z' (base58btc)";
		case ECL_DID_KEY_BAD_CHARACTER:
			return "contains a character outside the base58btc alphabet";
		case ECL_DID_KEY_BAD_LENGTH:
			return "does not encode exactly 34 bytes (multicodec header and 32-byte key)";
		case ECL_DID_KEY_NOT_ED25519:
			return "multicodec is not ed25519-pub (0xed 0x01)";
	}
	return "invalid did:key";
}
