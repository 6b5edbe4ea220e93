using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Agora.Storage;

/// One entity changed by a write: its stored form before (null when created) and after (null when deleted).
internal sealed record EntityChange(JsonObject? Before, JsonObject? After, string At);

/// The entity changes of the write the writer is running. EntityRows records into it; the store hands the
/// list to its observers inside the same transaction (so that whatever the observer writes, such as
/// notifications, commits or rolls back with the change itself) and clears it.
internal sealed class EntityChanges
{
    private static readonly ConditionalWeakTable<DbConnection, EntityChanges> Logs = new();
    private readonly List<EntityChange> _changes = [];

    public const int Subscriptions = 1;
    public const int History = 2;
    private int _listeners;

    /// Whether anyone listens: when no one does, writes skip reading the entity's previous state.
    public bool Enabled => Volatile.Read(ref _listeners) != 0;

    public bool Has(int listener) => (Volatile.Read(ref _listeners) & listener) != 0;

    /// Says whether a listener (a bit of its own: subscriptions, history) needs the changes now.
    public void Listen(int listener, bool on)
    {
        int current, next;
        do
        {
            current = Volatile.Read(ref _listeners);
            next = on ? current | listener : current & ~listener;
        }
        while (Interlocked.CompareExchange(ref _listeners, next, current) != current);
    }

    public IReadOnlyList<EntityChange> Changes => _changes;

    public static EntityChanges Attach(DbConnection writer) => Logs.GetValue(writer, _ => new EntityChanges());

    /// The log of a writer connection that is listened to, or null.
    public static EntityChanges? Of(DbConnection connection) =>
        Logs.TryGetValue(connection, out var log) && log.Enabled ? log : null;

    public void Record(JsonObject? before, JsonObject? after) =>
        _changes.Add(new EntityChange(before, after, (string?)after?["modifiedAt"] ?? Entities.EntityInput.Timestamp(DateTimeOffset.UtcNow)));

    public void Clear() => _changes.Clear();
}
