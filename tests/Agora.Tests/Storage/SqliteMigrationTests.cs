using Agora.Storage;
using Microsoft.Data.Sqlite;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Storage;

/// A SQLite store left by an older release opens in this one with its data intact and queryable.
public sealed class SqliteMigrationTests
{
    // Version 9 kept each geometry's entity and attribute as auxiliary columns of the R*Tree (with its own
    // rowid, and geo_rids to find an entity's rows); version 10 moves both into the tree itself.
    [Fact]
    public async Task GeometriesOfAVersion9StoreAreFoundAfterTheUpgrade()
    {
        if (TestDatabase.IsPostgres)
        {
            return; // The file below is SQLite's; PostgreSQL's schema has no R*Tree.
        }
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        using (var old = new SqliteConnection($"Data Source={Path.Combine(data, "default.sqlite")};Pooling=False"))
        {
            old.Open();
            Schema.Migrate(old, 9);
            using var fill = old.CreateCommand();
            // Two points of one entity (its location and an entrance) and one of another, as version 9 wrote them.
            fill.CommandText = """
                INSERT INTO entities (rid, id, doc, created_at, modified_at) VALUES
                  (1, 'urn:ngsi-ld:Shop:a', '{"id":"urn:ngsi-ld:Shop:a","type":["https://uri.etsi.org/ngsi-ld/default-context/Shop"],"https://uri.etsi.org/ngsi-ld/location":[{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.0,41.0]}}],"https://uri.etsi.org/ngsi-ld/default-context/entrance":[{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.001,41.0]}}]}', 'x', 'x'),
                  (2, 'urn:ngsi-ld:Shop:b', '{"id":"urn:ngsi-ld:Shop:b","type":["https://uri.etsi.org/ngsi-ld/default-context/Shop"],"https://uri.etsi.org/ngsi-ld/location":[{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.0,41.002]}}]}', 'x', 'x');
                INSERT INTO entity_types (type, rid) VALUES ('https://uri.etsi.org/ngsi-ld/default-context/Shop', 1), ('https://uri.etsi.org/ngsi-ld/default-context/Shop', 2);
                INSERT INTO geo (id, minx, maxx, miny, maxy, rid, attr) VALUES
                  (7, 2.0, 2.0, 41.0, 41.0, 1, 'https://uri.etsi.org/ngsi-ld/location'),
                  (8, 2.001, 2.001, 41.0, 41.0, 1, 'https://uri.etsi.org/ngsi-ld/default-context/entrance'),
                  (9, 2.0, 2.0, 41.002, 41.002, 2, 'https://uri.etsi.org/ngsi-ld/location');
                INSERT INTO geo_rids (rid, gid) VALUES (1, 7), (1, 8), (2, 9);
                """;
            fill.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        await using var app = new AgoraApplication(("Agora:Data", data));

        var near = Geo("near;maxDistance==300", "[2.0,41.0]");
        Assert.Equal(["urn:ngsi-ld:Shop:a", "urn:ngsi-ld:Shop:b"], (await app.QueryAsync("type=Shop&" + near)).Select(e => (string)e!["id"]!));
        Assert.Equal(["urn:ngsi-ld:Shop:a"], await app.IdsAsync("type=Shop&geoproperty=entrance&" + near));
        // The upgraded rows are rewritten like any others: the entity moves, its old geometry goes.
        using (var client = app.CreateClient())
        {
            using var moved = await client.PatchAsync(AgoraApplication.AttrsPath("urn:ngsi-ld:Shop:a"),
                AgoraApplication.Json("""{"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3.0, 41.0]}}}"""));
            Assert.Equal(System.Net.HttpStatusCode.NoContent, moved.StatusCode);
        }
        Assert.Equal(["urn:ngsi-ld:Shop:b"], await app.IdsAsync("type=Shop&" + near));
        Assert.Equal(["urn:ngsi-ld:Shop:a"], await app.IdsAsync("type=Shop&" + Geo("near;maxDistance==10", "[3.0,41.0]")));
    }

    // Version 11 keeps only the rows with a text in the (path, str) index, version 12 stores paths as numbers
    // (value_paths): a text query of an older store's rows still finds them.
    [Fact]
    public async Task TextValuesOfAVersion10StoreAreFoundAfterTheUpgrade()
    {
        if (TestDatabase.IsPostgres)
        {
            return; // The file below is SQLite's.
        }
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, "default.sqlite");
        using (var old = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            old.Open();
            Schema.Migrate(old, 10);
            using var fill = old.CreateCommand();
            const string colour = "https://uri.etsi.org/ngsi-ld/default-context/colour";
            fill.CommandText = $$"""
                INSERT INTO entities (rid, id, doc, created_at, modified_at) VALUES
                  (1, 'urn:ngsi-ld:Shop:a', '{"id":"urn:ngsi-ld:Shop:a","type":["https://uri.etsi.org/ngsi-ld/default-context/Shop"],"{{colour}}":[{"type":"Property","value":"blue"}]}', 'x', 'x'),
                  (2, 'urn:ngsi-ld:Shop:b', '{"id":"urn:ngsi-ld:Shop:b","type":["https://uri.etsi.org/ngsi-ld/default-context/Shop"],"{{colour}}":[{"type":"Property","value":"red"}]}', 'x', 'x');
                INSERT INTO entity_types (type, rid) VALUES ('https://uri.etsi.org/ngsi-ld/default-context/Shop', 1), ('https://uri.etsi.org/ngsi-ld/default-context/Shop', 2);
                INSERT INTO attr_values (rid, path, seq, num, str) VALUES (1, '{{colour}}', 0, NULL, 'blue'), (2, '{{colour}}', 0, NULL, 'red');
                """;
            fill.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        await using (var app = new AgoraApplication(("Agora:Data", data)))
        {
            Assert.Equal(["urn:ngsi-ld:Shop:b"], await app.IdsAsync("type=Shop&q=" + Escape("colour==\"red\"")));
            Assert.Equal(["urn:ngsi-ld:Shop:a"], await app.IdsAsync("type=Shop&q=" + Escape("colour<\"c\"")));
        }
        SqliteConnection.ClearAllPools();
        using var upgraded = new SqliteConnection($"Data Source={file};Pooling=False");
        upgraded.Open();
        using var index = upgraded.CreateCommand();
        index.CommandText = "SELECT sql FROM sqlite_master WHERE name = 'attr_values_str'";
        Assert.EndsWith("WHERE str IS NOT NULL", (string)index.ExecuteScalar()!);
    }

    private static string Geo(string georel, string coordinates) =>
        $"georel={Escape(georel)}&geometry=Point&coordinates={Escape(coordinates)}";
}
