// The sections of a policy file as the loader reads them: each reports its schema problems through
// the Reader and fills in what it could read, leaving defaults where it could not.
#pragma once

#include <filesystem>

#include "policy/node_reader.hpp"
#include "policy/policy.hpp"

namespace tilehv::policy::detail {

// Bounds on list lengths: generous for a tile, small enough that hostile input stays cheap.
inline constexpr std::size_t kMaxPartitions = 256;
inline constexpr std::size_t kMaxSensors = 64;
inline constexpr std::size_t kMaxChannels = 1024;
inline constexpr std::size_t kMaxPeers = 256;
inline constexpr std::size_t kMaxEthertypes = 64;
inline constexpr std::size_t kMaxPathBytes = 4095;     // PATH_MAX less its NUL
inline constexpr std::size_t kMaxCmdlineBytes = 2047;  // x86 COMMAND_LINE_SIZE less its NUL
inline constexpr std::size_t kMaxShadows = 64;
inline constexpr std::size_t kMaxTrustKeys = 16;

void load_tile(Reader& reader, const Field& field, Tile& tile);
void load_partition(Reader& reader, const Field& field, const std::filesystem::path& base_dir, Partition& partition);
void load_channel(Reader& reader, const Field& field, ChannelDecl& channel);
void load_shadow(Reader& reader, const Field& field, const std::filesystem::path& base_dir, Shadow& shadow);
void load_trust(Reader& reader, const Field& field, const std::filesystem::path& base_dir, std::vector<TrustKey>& keys);

}  // namespace tilehv::policy::detail
