// The control API's routes (docs/api.yaml): each turns an HTTP request into a Tile operation and its
// result or ApiError into JSON.
#pragma once

#include "api/http_server.hpp"
#include "daemon/tile.hpp"

namespace tilehv::daemon {

void install_routes(api::HttpServer& server, Tile& tile);

// The JSON of a plan, shared by the plan and apply answers.
[[nodiscard]] nlohmann::json plan_json(const policy::Plan& plan);

}  // namespace tilehv::daemon
