// Moved to flags/flag_parser.h (the gqa_flags library, shared with server/ and
// client/). This forwarding header keeps the tools that still include the old
// path building; include flags/flag_parser.h instead.
#pragma once

#include "flags/flag_parser.h"
