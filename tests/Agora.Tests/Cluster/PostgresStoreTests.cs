using System.Net;
using Npgsql;

namespace Agora.Tests.Cluster;

/// What the PostgreSQL provider keeps where, as an operator looking at the database with psql would see it.
public sealed class PostgresStoreTests
{
    [PostgresFact]
    public async Task HistoryIsWrittenIntoThePartitionOfTheMonth()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        await using (var app = new AgoraApplication(("Agora:Data", data)))
        {
            using var client = app.CreateClient();
            using var created = await client.PostAsync(AgoraApplication.EntitiesPath, AgoraApplication.Json("""
                {"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "status": {"type": "Property", "value": "ok"}}
                """));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var patched = await client.PatchAsync(AgoraApplication.AttrsPath("urn:ngsi-ld:Streetlight:1"), AgoraApplication.Json("""{"status": "defective"}"""));
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);

            await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
            await connection.OpenAsync();
            var schema = TestDatabase.SchemaOf(data) + "_default";
            await using var command = new NpgsqlCommand($"SELECT tableoid::regclass::text, count(*) FROM {schema}.attr_instances GROUP BY 1", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal($"{schema}.attr_instances_{DateTimeOffset.UtcNow:yyyy_MM}", reader.GetString(0));
            Assert.Equal(2, reader.GetInt64(1));
            Assert.False(await reader.ReadAsync());
        }
        await TestDatabase.DropAsync(data);
    }
}
