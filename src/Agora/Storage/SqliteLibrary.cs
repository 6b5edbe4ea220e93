using System.Runtime.CompilerServices;
using SQLitePCL;

namespace Agora.Storage;

/// Process-wide SQLite settings, made before the first connection opens (SQLite refuses them afterwards).
internal static class SqliteLibrary
{
    /// SQLite's memory statistics take a global mutex on every allocation and free it makes: on the writer,
    /// which allocates for every row it inserts, `pthread_mutex_lock` and `unlock` were 5% of its time. Nothing
    /// in Agora reads those statistics (`sqlite3_memory_used`), so they are off.
    [ModuleInitializer]
    internal static void Configure()
    {
        Batteries_V2.Init();
        raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0);
    }
}
