// StreamDriver: sends a workload over gRPC GenerateStream on gRPC's callback
// API, one ClientReadReactor per request (no thread per request), and
// records when every streamed message arrived.
//
//   RunStreams(channel, items, options, on_progress)
//     caller's thread = the dispatcher: sleeps until each item's arrival
//     time, waits for a free slot under max_concurrency, starts the call;
//     then waits for every call to end. Calls on_progress a few times a second.
//     Multi-turn chat (WorkItem::previous_turn >= 0): a follow-up turn is due
//     when its previous turn has ended, and takes the next free slot before
//     any later arrival; its prompt is the previous turn's prompt + the token
//     ids the server returned + its own part. When the previous turn failed
//     it is not sent: recorded as ABORTED (and so are the turns after it).
//   gRPC's threads run the reactions (OnReadDone, OnDone): they append to
//     their own request's record and, on OnDone, take the driver's mutex for
//     a moment to free the slot (and queue the next turn). Nothing blocks in
//     a reaction.
//
// Times are seconds since the run's start (steady_clock).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <vector>

#include "client/loadgen/request_record.h"
#include "client/loadgen/workload.h"

namespace gqa::loadgen {

struct DriverOptions {
  int max_concurrency = 0;       // requests in flight at most; 0 = unbounded
  double request_timeout_s = 0;  // per-request gRPC deadline; 0 = none
  double progress_interval_s = 0.25;
};

struct DriverResult {
  std::vector<RequestRecord> records;  // records[i] is items[i]
  double duration_s = 0;               // start to the last request's end
  int max_concurrency_observed = 0;    // most requests in flight at once
};

// Called on the dispatcher thread with the requests ended so far.
using ProgressFn = std::function<void(int completed, int failed, double elapsed_s)>;

// Blocks until every request has ended (OK or not; a failed request is
// recorded with its status, never fatal). `items` must stay alive and
// unchanged for the call.
DriverResult RunStreams(const std::shared_ptr<grpc::Channel>& channel,
                        const std::vector<WorkItem>& items, const DriverOptions& options,
                        const ProgressFn& on_progress = nullptr);

}  // namespace gqa::loadgen
