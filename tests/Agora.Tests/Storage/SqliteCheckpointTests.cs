using Agora.Storage;
using Microsoft.Data.Sqlite;

namespace Agora.Tests.Storage;

/// The write-ahead log is copied into the database file beside the writer, soon after a commit, long before
/// SQLite's own automatic checkpoint (SqliteCheckpointer.Backstop pages) would make the writer do it.
public sealed class SqliteCheckpointTests
{
    [Fact]
    public async Task CommittedPagesReachTheDatabaseFileWithoutTheWriterCheckpointing()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var path = Path.Combine(data, "default.sqlite");
        var store = TenantStore.OpenSqlite("default", path, "Normal");
        await using (store)
        {
            var before = new FileInfo(path).Length;
            // About 2 MB in 500 pages: far below the backstop, so only the background checkpoint copies them.
            await store.WriteAsync(c =>
            {
                TenantStore.Execute(c, "CREATE TABLE filler (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO filler SELECT randomblob(4000) FROM n;");
                return true;
            });
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (new FileInfo(path).Length < before + 2_000_000 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.True(new FileInfo(path).Length >= before + 2_000_000,
                $"The database file is {new FileInfo(path).Length} bytes, {before} before the write: the log was not checkpointed.");
            Assert.Equal(500L, store.Read(c =>
            {
                using var count = c.CreateCommand();
                count.CommandText = "SELECT count(*) FROM filler";
                return (long)count.ExecuteScalar()!;
            }));
        }
        SqliteConnection.ClearAllPools();
    }
}
