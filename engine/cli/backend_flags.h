// Moved to engine/runner/backend_flags.h (the server binds the same flags and
// links no tool code). This forwarding header keeps the tools that still
// include the old path building; include the new one instead.
#pragma once

#include "engine/runner/backend_flags.h"
