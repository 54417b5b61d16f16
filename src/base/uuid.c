#include "base/uuid.h"

#include <sodium.h>
#include <stdio.h>

#include "base/hex.h"

void uuid_v4(char out[UUID_STRLEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *p = out; /* what "%02x" per byte with dashes after bytes 4, 6, 8 and 10 writes */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

bool uuid_valid(const char *s, size_t len)
{
    if (len != UUID_STRLEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (hex_value(s[i]) < 0) {
            return false;
        }
    }
    if (s[14] < '1' || s[14] > '5')
        return false;
    char v = s[19];
    return v == '8' || v == '9' || v == 'a' || v == 'b' || v == 'A' || v == 'B';
}
