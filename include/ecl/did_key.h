/*
 * did_key.h — the did:key method for Ed25519 keys (docs/sql-api.md, "Identities and
 * credentials").
 *
 * A did:key DID is "did:key:" followed by a multibase string: the prefix 'z'
 * (base58btc, Bitcoin alphabet) and the base58 encoding of the multicodec
 * header 0xed 0x01 (varint of 0xed, "ed25519-pub") followed by the 32-byte
 * public key.  Such DIDs are 56 characters long and start "did:key:z6Mk".
 *
 * Plain C with no PostgreSQL dependency, so it can be checked on its own.
 */
#ifndef ECL_DID_KEY_H
#define ECL_DID_KEY_H

#include <stddef.h>
#include <stdint.h>

#define ECL_ED25519_PUBLIC_KEY_BYTES 32

/* Enough for "did:key:z" + base58 of 34 bytes (at most 47 digits) + NUL. */
#define ECL_DID_KEY_BUFSIZE 64

typedef enum ecl_did_key_status
{
	ECL_DID_KEY_OK = 0,
	ECL_DID_KEY_NOT_DID_KEY,	/* does not start with "did:key:" */
	ECL_DID_KEY_NOT_BASE58BTC,	/* multibase prefix is not 'z' */
	ECL_DID_KEY_BAD_CHARACTER,	/* a character outside the base58 alphabet */
	ECL_DID_KEY_BAD_LENGTH,		/* does not decode to exactly 34 bytes */
	ECL_DID_KEY_NOT_ED25519		/* multicodec header is not 0xed 0x01 */
} ecl_did_key_status;

/*
 * Write the did:key of a public key into out (NUL-terminated).  Returns the
 * length written, or 0 when outsize is too small.
 */
size_t		ecl_did_key_encode(const uint8_t public_key[ECL_ED25519_PUBLIC_KEY_BYTES],
							   char *out, size_t outsize);

/*
 * Decode a did:key (len bytes, need not be NUL-terminated) into its public
 * key.  Only the canonical encoding is accepted: no leading '1' digits, no
 * extra bytes, nothing after the key.
 */
ecl_did_key_status ecl_did_key_decode(const char *did, size_t len,
									  uint8_t public_key[ECL_ED25519_PUBLIC_KEY_BYTES]);

/* A short English description of a status, for error messages. */
const char *ecl_did_key_status_message(ecl_did_key_status status);

#endif							/* ECL_DID_KEY_H */
