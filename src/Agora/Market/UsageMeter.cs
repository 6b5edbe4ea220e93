namespace Agora.Market;

/// What agreements used and the market's database does not hold yet: calls, entities, bytes and response times
/// counted in memory, per agreement and day, and handed to the database in one transaction (MarketStore.Flush)
/// at most FlushEvery later. Counting every call in the database made each read of an agreement's key three
/// write transactions of market.sqlite, serialised on its lock: an agreement's GET ran at a quarter of the
/// admin's. A usage report flushes before it reads, so it sees every call this node answered; a crash loses at
/// most the last FlushEvery of counts.
///
/// A calls quota is decided here as well when this process is the only one counting (SQLite): the day's count
/// is read from the database once, then kept, so the limit holds exactly. Where nodes share the database
/// (PostgreSQL) MarketStore counts quota'd calls in the database itself, as before, and the meter only adds up.
internal sealed class UsageMeter
{
    public static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(1);

    /// How long calls took, in power-of-two buckets of ms (bucket b holds up to 2^b ms).
    public const int Buckets = 31;

    private readonly Lock _gate = new();
    private Dictionary<(string Agreement, string Day), Counts> _pending = [];
    // What a flush is writing now: still counted by BytesOn and quota checks until it is in the database.
    private Dictionary<(string Agreement, string Day), Counts>? _writing;
    // Calls counted against a quota, per agreement and day: what the database held when first asked, plus every
    // call counted here since.
    private readonly Dictionary<(string Agreement, string Day), long> _quotaCalls = [];

    public sealed class Counts
    {
        public long Calls, Entities, Bytes, Timed, TimeMs, MaxMs, ServerErrors;
        public readonly long[] Latency = new long[Buckets];

        public void Add(Counts other)
        {
            Calls += other.Calls;
            Entities += other.Entities;
            Bytes += other.Bytes;
            Timed += other.Timed;
            TimeMs += other.TimeMs;
            MaxMs = Math.Max(MaxMs, other.MaxMs);
            ServerErrors += other.ServerErrors;
            for (var b = 0; b < Buckets; b++)
            {
                Latency[b] += other.Latency[b];
            }
        }
    }

    public static int Bucket(long milliseconds) => milliseconds <= 1 ? 0 : Math.Min(Buckets - 1, (int)Math.Ceiling(Math.Log2(milliseconds)));

    /// Adds to the agreement's day.
    public void Add(string agreement, string day, Action<Counts> add)
    {
        lock (_gate)
        {
            add(PendingOf(agreement, day));
        }
    }

    /// Counts a call if the day's count stays within limit; counted reads what the database holds for the day
    /// (asked once per agreement and day).
    public bool TryCountCall(string agreement, string day, long limit, Func<long> counted)
    {
        lock (_gate)
        {
            if (!_quotaCalls.TryGetValue((agreement, day), out var calls))
            {
                // Calls counted here but not written yet are not in the database.
                calls = counted() + Unwritten(agreement, day, c => c.Calls);
                // Other days' counts are done with (one that comes back is read again).
                foreach (var old in _quotaCalls.Keys.Where(k => k.Day != day).ToList())
                {
                    _quotaCalls.Remove(old);
                }
            }
            if (calls >= limit)
            {
                _quotaCalls[(agreement, day)] = calls;
                return false;
            }
            _quotaCalls[(agreement, day)] = calls + 1;
            PendingOf(agreement, day).Calls++;
            return true;
        }
    }

    /// What is counted for the agreement's day and not in the database yet.
    public long Unwritten(string agreement, string day, Func<Counts, long> of)
    {
        lock (_gate)
        {
            return (_pending.TryGetValue((agreement, day), out var pending) ? of(pending) : 0)
                + (_writing?.TryGetValue((agreement, day), out var writing) == true ? of(writing) : 0);
        }
    }

    /// Takes what is pending for writing (null when nothing is); Written or Failed must follow.
    public Dictionary<(string Agreement, string Day), Counts>? Take()
    {
        lock (_gate)
        {
            if (_pending.Count == 0 || _writing is not null)
            {
                return null;
            }
            (_writing, _pending) = (_pending, []);
            return _writing;
        }
    }

    public void Written()
    {
        lock (_gate)
        {
            _writing = null;
        }
    }

    /// The taken counts go back to pending, for the next flush.
    public void Failed()
    {
        lock (_gate)
        {
            foreach (var (key, counts) in _writing ?? [])
            {
                PendingOf(key.Agreement, key.Day).Add(counts);
            }
            _writing = null;
        }
    }

    private Counts PendingOf(string agreement, string day)
    {
        if (!_pending.TryGetValue((agreement, day), out var counts))
        {
            _pending[(agreement, day)] = counts = new Counts();
        }
        return counts;
    }
}
