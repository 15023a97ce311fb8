// Package bbolt is a durable kvstore.Store in one file, built on
// go.etcd.io/bbolt.
//
// Durability: Put, Update and Delete return only after the transaction
// holding the write has been committed and fsynced, so an acknowledged write
// survives a crash or power loss, and reopening a file keeps every record
// that has not expired.
//
// Group commit: writes are queued to one committer goroutine, which applies
// every write waiting at that moment in one bbolt transaction and one
// commit. Concurrent writers thus share fsyncs: with many writers the cost of
// a commit is spread over the whole batch, and nobody waits for a timer.
// Each write in a batch succeeds or fails on its own: an UpdateFunc's error,
// or a record too large, leaves that key unchanged and does not touch the
// rest of the batch, because a write checks everything before it changes
// the transaction. Only a failure of bbolt itself (a full disk, say) fails
// every write of the batch.
//
// bbolt's own DB.Batch is not used. It starts a batch when MaxBatchSize
// calls have arrived or MaxBatchDelay (10ms) has passed, so a lone writer
// always waits; and when one function of a batch fails, it rolls the whole
// transaction back, reruns the others, and runs the failing one again alone
// with DB.Update. Errors would stay with their caller, but every function
// could run several times and a batch could be retried once per failure.
//
// Update's fn runs exactly once, in the committer goroutine and inside its
// transaction: it must be quick, and must not write to the store (that would
// deadlock). A panic in fn leaves the store unchanged and is re-raised in
// the caller's goroutine.
//
// On disk: bucket "records" maps each key to its record in a small versioned
// binary format with a CRC-32C (see record.go); bucket "expiry" indexes the
// keys of expiring records by expiry time, so that Sweep reads only what has
// expired; bucket "meta" names the format, so that a foreign bbolt file is
// refused on Open. Reads copy out of bbolt's memory map before the read
// transaction ends.
//
// The store implements kvstore.Ranger.
package bbolt
