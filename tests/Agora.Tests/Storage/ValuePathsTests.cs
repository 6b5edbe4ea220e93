using Agora.Storage;
using Microsoft.Data.Sqlite;

namespace Agora.Tests.Storage;

/// A value path's code, kept in memory by the SQLite writer, is always one the value_paths table holds: a
/// code given inside a write that rolled back is not reused.
public sealed class ValuePathsTests
{
    [Fact]
    public async Task ACodeGivenInARolledBackWriteIsGivenAgainFromTheTable()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var store = TenantStore.OpenSqlite("default", Path.Combine(data, "default.sqlite"), "Normal");
        await using (store)
        {
            const string path = "https://example.org/rolled-back";
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync<long>(c =>
            {
                TextCodes.Paths(c).Code(c, path);
                throw new InvalidOperationException("The write fails after its path was given a code.");
            }));
            // A path coded and committed in between takes the number the rolled-back one had.
            var other = await store.WriteAsync(c => TextCodes.Paths(c).Code(c, "https://example.org/committed"));
            var code = await store.WriteAsync(c => TextCodes.Paths(c).Code(c, path));

            Assert.NotEqual(other, code);
            Assert.Equal(path, store.Read(c =>
            {
                using var command = c.CreateCommand();
                command.CommandText = "SELECT path FROM value_paths WHERE code = @code";
                command.Parameters.AddWithValue("@code", code);
                return command.ExecuteScalar() as string;
            }));
        }
        SqliteConnection.ClearAllPools();
    }
}
