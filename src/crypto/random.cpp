#include "mailtrixy/crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::crypto {

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  std::size_t filled = 0;
  while (filled < count) {
    // RAND_bytes takes an int length.
    const std::size_t chunk = std::min<std::size_t>(count - filled, INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + filled), static_cast<int>(chunk)) != 1) {
      throw std::runtime_error("the system random number generator failed (RAND_bytes)");
    }
    filled += chunk;
  }
  return out;
}

std::string random_token(std::size_t bytes) { return base64url_encode(random_bytes(bytes)); }

}  // namespace mailtrixy::crypto
