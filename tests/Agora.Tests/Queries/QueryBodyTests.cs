using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// The Query object of POST /entityOperations/query and POST /temporal/entityOperations/query (ETSI GS CIM 009
/// V1.9.1 clause 5.2.23, its entity selectors clause 5.2.33): each member has the type its table gives it, and a
/// member of another type is BadRequestData naming it, never a server error.
public sealed class QueryBodyTests
{
    private const string A = "urn:ngsi-ld:Vehicle:A";
    private const string B = "urn:ngsi-ld:Vehicle:B";
    private const string TemporalQueryPath = "/ngsi-ld/v1/temporal/entityOperations/query";

    private const string Vehicles = """
        [
          {"id": "urn:ngsi-ld:Vehicle:A", "type": "Vehicle", "speed": {"type": "Property", "value": 1, "observedAt": "2026-01-01T00:00:00Z"}},
          {"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle", "speed": {"type": "Property", "value": 2, "observedAt": "2026-01-01T00:00:00Z"}}
        ]
        """;

    [Theory]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle"}], "q": 42}""", "q must be a string, not the number 42")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle"}], "q": ["speed>1"]}""", "q must be a string")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle"}], "scopeQ": true}""", "scopeQ must be a string")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle"}], "attrs": [5]}""", "attrs must be an array of attribute names")]
    [InlineData("""{"type": "Query", "entities": [{"type": 7}]}""", "entities[].type must be a string")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle", "idPattern": {"regex": ".*"}}]}""", "entities[].idPattern must be a string, not an object")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle", "id": ["urn:ngsi-ld:Vehicle:A", 5]}]}""", "entities[].id must be an entity id (a URI) or a non-empty array of them")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle", "id": []}]}""", "not an empty array")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle", "id": {"@id": "urn:ngsi-ld:Vehicle:A"}}]}""", "not an object")]
    [InlineData("""{"type": "Query", "entities": [{"type": "Vehicle", "id": ["not a uri"]}]}""", "is not a valid URI")]
    [InlineData("""{"type": 5, "entities": [{"type": "Vehicle"}]}""", "must be a Query object")]
    public async Task AQueryMemberOfTheWrongTypeIsBadRequestDataNamingIt(string body, string detail)
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(Vehicles);
        using var client = app.CreateClient();

        var temporal = JsonNode.Parse(body)!.AsObject();
        temporal["temporalQ"] = new JsonObject { ["timerel"] = "after", ["timeAt"] = "2020-01-01T00:00:00Z" };

        foreach (var (path, query) in new[] { (QueryPath, body), (TemporalQueryPath, temporal.ToJsonString()) })
        {
            using var response = await client.PostAsync(path, Json(query));

            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
            Assert.Contains(detail, (string?)problem["detail"]);
        }
    }

    // Table 5.2.23-1: temporalQ is "to be present only for Query Temporal Evolution of Entities operation"
    // (ETSI fork 019_32_08); the temporal query takes it as before.
    [Fact]
    public async Task TemporalQIsRefusedByTheEntityQueryAndTakenByTheTemporalOne()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(Vehicles);
        using var client = app.CreateClient();
        const string Body = """{"type": "Query", "entities": [{"type": "Vehicle"}], "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}}""";

        using var entities = await client.PostAsync(QueryPath, Json(Body));
        using var temporal = await client.PostAsync(TemporalQueryPath, Json(Body));

        var problem = await ProblemAsync(entities, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Contains("temporalQ", (string?)problem["detail"]);
        Assert.Equal(HttpStatusCode.OK, temporal.StatusCode);
    }

    /// Table 5.2.33-1 (V1.9.1, as the ETSI test 5233_01_01 reads it): id is a URI or an array of URIs, the
    /// array selecting each entity it names, as the id parameter of a GET query does.
    [Fact]
    public async Task AnIdArraySelectsEachNamedEntity()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(Vehicles);
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Vehicle:C", "type": "Vehicle"}]""");

        var ids = await PostIdsAsync(app, $$"""{"type": "Query", "entities": [{"type": "Vehicle", "id": ["{{A}}", "{{B}}"]}]}""");

        Assert.Equal([A, B], ids);
    }

    /// Clause 5.2.33: "id takes precedence over idPattern" (ETSI 5233_01_02).
    [Fact]
    public async Task AnIdTakesPrecedenceOverAnIdPattern()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(Vehicles);

        var ids = await PostIdsAsync(app, $$"""{"type": "Query", "entities": [{"type": "Vehicle", "id": "{{A}}", "idPattern": "^urn:ngsi-ld:Vehicle:B$"}]}""");

        Assert.Equal([A], ids);
    }

    private static async Task<string[]> PostIdsAsync(AgoraApplication app, string body)
    {
        using var client = app.CreateClient();
        using var response = await client.PostAsync(QueryPath, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return IdsOf(JsonNode.Parse(text)!.AsArray());
    }
}
