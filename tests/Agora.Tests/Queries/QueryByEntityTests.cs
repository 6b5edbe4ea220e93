using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// Query Entities by what an entity is: its types, id, id pattern, attributes and scope.
public sealed class QueryByEntityTests
{
    private const string B1 = "urn:ngsi-ld:Building:1";
    private const string B2 = "urn:ngsi-ld:Building:2";
    private const string S1 = "urn:ngsi-ld:Shed:1";
    private const string L1 = "urn:ngsi-ld:Landmark:1";

    private const string Town = """
        [
          {"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": 21, "name": "Casa", "scope": "/Madrid/Centro"},
          {"id": "urn:ngsi-ld:Building:2", "type": ["Building", "Landmark"], "humidity": 40, "scope": "/Madrid/Retiro"},
          {"id": "urn:ngsi-ld:Shed:1", "type": "Shed", "temperature": 15, "scope": "/Berlin"},
          {"id": "urn:ngsi-ld:Landmark:1", "type": "Landmark", "name": "Puerta"}
        ]
        """;

    private static async Task<AgoraApplication> TownAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync(Town);
        return app;
    }

    [Fact]
    public async Task QueryByTypeReturnsOnlyEntitiesTheSelectionMatches()
    {
        await using var app = await TownAsync();

        await app.AssertIdsAsync("", "type",
            ("Building", [B1, B2]),
            ("Shed", [S1]),
            ("Building,Shed", [B1, B2, S1]),
            ("Building|Shed", [B1, B2, S1]),
            ("Building;Landmark", [B2]),
            ("(Building;Landmark),Shed", [B2, S1]),
            ("(Building,Shed);Landmark", [B2]),
            ("Vehicle", None),
            ("https://uri.etsi.org/ngsi-ld/default-context/Shed", [S1]));
    }

    [Fact]
    public async Task QueryByIdListReturnsOnlyThoseEntities()
    {
        await using var app = await TownAsync();

        var ids = await app.IdsAsync($"id={Escape(B1)},{Escape(S1)},{Escape("urn:ngsi-ld:Nothing:1")}&type=Building,Shed,Landmark");

        Assert.Equal([B1, S1], ids);
    }

    [Fact]
    public async Task QueryByIdPatternReturnsEntitiesWhoseIdMatches()
    {
        await using var app = await TownAsync();

        var ids = await app.IdsAsync("idPattern=" + Escape("^urn:ngsi-ld:(Building|Shed):1$") + "&type=Building,Shed,Landmark");

        Assert.Equal([B1, S1], ids);
    }

    [Fact]
    public async Task QueryByAttrsReturnsEntitiesWithAnyOfThemAndOnlyThoseAttributes()
    {
        await using var app = await TownAsync();

        var entities = await app.QueryAsync("attrs=temperature,humidity");

        Assert.Equal([B1, B2, S1], IdsOf(entities));
        JsonEqual("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "scope": "/Madrid/Centro", "temperature": {"type": "Property", "value": 21}}""",
            entities.Single(e => (string?)e!["id"] == B1));
        JsonEqual("""{"id": "urn:ngsi-ld:Building:2", "type": ["Building", "Landmark"], "scope": "/Madrid/Retiro", "humidity": {"type": "Property", "value": 40}}""",
            entities.Single(e => (string?)e!["id"] == B2));
    }

    [Fact]
    public async Task AttrsAndTypeTogetherSelectOnlyEntitiesMatchingBoth()
    {
        await using var app = await TownAsync();

        var entities = await app.QueryAsync("type=Building&attrs=name");

        // attrs selects entities having one of them; with a type alongside, both must hold. The scope is an entity
        // member, not an attribute, so projection keeps it.
        JsonEqual("""[{"id": "urn:ngsi-ld:Building:1", "type": "Building", "scope": "/Madrid/Centro", "name": {"type": "Property", "value": "Casa"}}]""", entities);
    }

    [Fact]
    public async Task QueryByScopeQReturnsEntitiesInMatchingScopes()
    {
        await using var app = await TownAsync();

        await app.AssertIdsAsync("", "scopeQ",
            ("/Madrid/#", [B1, B2]),
            ("/Madrid/+", [B1, B2]),
            ("/Madrid", None),
            ("/Berlin", [S1]),
            ("/Madrid/Retiro,/Berlin", [B2, S1]),
            ("/Madrid/Centro;/Berlin", None),
            ("/#", [B1, B2, S1]));
        await app.AssertIdsAsync("type=Building&", "scopeQ", ("/Madrid/Retiro|/Berlin", [B2]));
    }

    [Fact]
    public async Task AQueryWithoutTypeAttrsQGeoOrScopeQIsBadRequestData()
    {
        await using var app = await TownAsync();

        await app.AssertEachRejectedAsync(HttpStatusCode.BadRequest, "BadRequestData",
            EntitiesPath,
            EntitiesPath + "?id=" + Escape(B1),
            EntitiesPath + "?idPattern=.*",
            EntitiesPath + "?limit=5&count=true",
            EntitiesPath + "?local=false");
    }

    [Fact]
    public async Task ALocalQueryMayAskForEverything()
    {
        await using var app = await TownAsync();

        Assert.Equal([B1, B2, L1, S1], await app.IdsAsync("local=true"));
        Assert.Equal([B1, B2], await app.IdsAsync("local=true&idPattern=Building"));
    }

    [Fact]
    public async Task AnInvalidTypeIdPatternOrScopeQIsBadRequestData()
    {
        await using var app = await TownAsync();

        await app.AssertEachRejectedAsync(HttpStatusCode.BadRequest, "BadRequestData",
            EntitiesPath + "?type=" + Escape("(Building"),
            EntitiesPath + "?type=" + Escape("Building;;Shed"),
            EntitiesPath + "?type=Building&idPattern=" + Escape("(unclosed"),
            EntitiesPath + "?scopeQ=Madrid",
            EntitiesPath + "?type=Building&id=not-a-uri");
    }

    [Fact]
    public async Task AnUnknownQueryParameterIsInvalidRequest()
    {
        await using var app = await TownAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntitiesPath + "?type=Building&colour=red");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task AQueryInOneTenantNeverReturnsAnotherTenantsEntities()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Building:a", "type": "Building", "temperature": 1}]""", tenant: "city-a");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Building:b", "type": "Building", "temperature": 2}]""", tenant: "city-b");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Building:default", "type": "Building", "temperature": 3}]""");

        Assert.Equal(["urn:ngsi-ld:Building:a"], await app.IdsAsync("type=Building", tenant: "city-a"));
        Assert.Equal(["urn:ngsi-ld:Building:b"], await app.IdsAsync("q=temperature>0", tenant: "city-b"));
        Assert.Equal(["urn:ngsi-ld:Building:default"], await app.IdsAsync("attrs=temperature"));
    }

    [Fact]
    public async Task AQueryInAnUnknownTenantIsNonexistentTenant()
    {
        await using var app = await TownAsync();
        using var client = app.CreateClient("never-written");

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");
        using var posted = await client.PostAsync(QueryPath, Json("""{"type": "Query", "entities": [{"type": "Building"}]}"""));

        await ProblemAsync(response, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(posted, HttpStatusCode.NotFound, "NonexistentTenant");
    }
}
