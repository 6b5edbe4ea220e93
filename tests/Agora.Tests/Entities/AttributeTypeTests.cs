using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class AttributeTypeTests
{
    private const string Id = "urn:ngsi-ld:Building:1";

    [Theory]
    [InlineData("""{"type": "Property", "value": 21.5}""")]
    [InlineData("""{"type": "Property", "value": "sunny"}""")]
    [InlineData("""{"type": "Property", "value": true}""")]
    [InlineData("""{"type": "Property", "value": {"street": "Main St", "number": 5}}""")]
    [InlineData("""{"type": "Property", "value": [1, 2, 3]}""")]
    [InlineData("""{"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}""")]
    [InlineData("""{"type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person"}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.17, 41.38]}}""")]
    [InlineData("""{"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}""")]
    [InlineData("""{"type": "LanguageProperty", "languageMap": {"en": "Main street", "fr": "Rue principale"}}""")]
    [InlineData("""{"type": "VocabProperty", "vocab": "Residential"}""")]
    [InlineData("""{"type": "JsonProperty", "json": {"any": [1, {"nested": null}], "shape": "kept"}}""")]
    [InlineData("""{"type": "ListProperty", "valueList": [3, "three", {"n": 3}]}""")]
    [InlineData("""{"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Person:1"}, {"object": "urn:ngsi-ld:Person:2"}]}""")]
    public async Task EveryAttributeTypeIsStoredAndReturnedAsGiven(string attribute)
    {
        await using var app = new AgoraApplication();
        var entity = $$$"""{"id": "{{{Id}}}", "type": "Building", "category": {{{attribute}}}}""";

        await app.CreateEntityAsync(entity);

        JsonEqual(entity, await app.RetrieveAsync(Id));
    }

    [Fact]
    public async Task AConciseListRelationshipIsStoredNormalized()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""
            {"id": "{{{Id}}}", "type": "Building", "tenants": {"objectList": ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"]}}
            """);

        var entity = await app.RetrieveAsync(Id);

        JsonEqual("""
            {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Person:1"}, {"object": "urn:ngsi-ld:Person:2"}]}
            """, entity["tenants"]);
    }

    [Fact]
    public async Task ConciseInputIsStoredNormalized()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""
            {
              "id": "{{{Id}}}",
              "type": "Building",
              "temperature": 21,
              "label": "Town hall",
              "address": {"street": "Main St"},
              "owner": {"object": "urn:ngsi-ld:Person:1"},
              "street": {"languageMap": {"en": "Main street"}},
              "position": {"type": "Point", "coordinates": [2.17, 41.38]},
              "humidity": {"value": 40, "unitCode": "P1"}
            }
            """);

        var entity = await app.RetrieveAsync(Id);

        JsonEqual($$$"""
            {
              "id": "{{{Id}}}",
              "type": "Building",
              "temperature": {"type": "Property", "value": 21},
              "label": {"type": "Property", "value": "Town hall"},
              "address": {"type": "Property", "value": {"street": "Main St"}},
              "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
              "street": {"type": "LanguageProperty", "languageMap": {"en": "Main street"}},
              "position": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.17, 41.38]}},
              "humidity": {"type": "Property", "value": 40, "unitCode": "P1"}
            }
            """, entity);
    }

    [Fact]
    public async Task ABareGeoJsonLocationIsStoredAsAGeoProperty()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "location": {"type": "Point", "coordinates": [2.17, 41.38]}}""");

        var entity = await app.RetrieveAsync(Id);

        JsonEqual("""{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.17, 41.38]}}""", entity["location"]);
    }

    [Fact]
    public async Task MultiAttributesAreKeptPerDatasetId()
    {
        await using var app = new AgoraApplication();
        const string temperature = """
            [
              {"type": "Property", "value": 20},
              {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:north"},
              {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:south"}
            ]
            """;
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "temperature": {{{temperature}}}}""");

        var entity = await app.RetrieveAsync(Id);
        var simplified = await app.RetrieveAsync(Id, "?options=keyValues");

        JsonEqual(temperature, entity["temperature"]);
        JsonEqual("""
            {"dataset": {"@none": 20, "urn:ngsi-ld:Dataset:north": 21, "urn:ngsi-ld:Dataset:south": 22}}
            """, simplified["temperature"]);
    }

    [Fact]
    public async Task TwoInstancesWithTheSameDatasetIdAreRejected()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json($$$"""
            {"id": "{{{Id}}}", "type": "Building", "temperature": [
              {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:a"},
              {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:a"}]}
            """));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task SubAttributesAreStoredAtAnyDepth()
    {
        await using var app = new AgoraApplication();
        const string temperature = """
            {
              "type": "Property", "value": 21,
              "accuracy": {"type": "Property", "value": 0.5, "method": {"type": "Property", "value": "calibrated"}},
              "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:7"}
            }
            """;
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "temperature": {{{temperature}}}}""");

        var entity = await app.RetrieveAsync(Id);

        JsonEqual(temperature, entity["temperature"]);
    }

    [Fact]
    public async Task ObservedAtAndUnitCodeAreKept()
    {
        await using var app = new AgoraApplication();
        const string temperature = """{"type": "Property", "value": 21, "observedAt": "2024-05-01T12:00:00Z", "unitCode": "CEL"}""";
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "temperature": {{{temperature}}}}""");

        var entity = await app.RetrieveAsync(Id);

        JsonEqual(temperature, entity["temperature"]);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"2024-05-01\"")]
    [InlineData("12")]
    public async Task AnObservedAtThatIsNotADateTimeIsRejected(string observedAt)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json($$$"""
            {"id": "{{{Id}}}", "type": "Building", "temperature": {"type": "Property", "value": 21, "observedAt": {{{observedAt}}}}}
            """));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task SysAttrsShowsCreatedAtAndModifiedAtOnTheEntityAndItsAttributes()
    {
        await using var app = new AgoraApplication();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "temperature": 21}""");

        var entity = await app.RetrieveAsync(Id, "?options=sysAttrs");
        var plain = await app.RetrieveAsync(Id);

        foreach (var holder in new[] { entity, entity["temperature"]!.AsObject() })
        {
            var createdAt = DateTimeOffset.Parse((string)holder["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(createdAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.Equal((string?)holder["createdAt"], (string?)holder["modifiedAt"]);
        }
        Assert.False(plain.ContainsKey("createdAt"));
        Assert.False(plain["temperature"]!.AsObject().ContainsKey("modifiedAt"));
    }

    [Fact]
    public async Task AnUpdateChangesModifiedAtAndKeepsCreatedAt()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "temperature": 21}""");
        var created = await app.RetrieveAsync(Id, "?options=sysAttrs");
        await Task.Delay(20);
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrsPath(Id), Json("""{"temperature": 22}"""));
        var updated = await app.RetrieveAsync(Id, "?options=sysAttrs");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal((string?)created["createdAt"], (string?)updated["createdAt"]);
        Assert.Equal((string?)created["temperature"]!["createdAt"], (string?)updated["temperature"]!["createdAt"]);
        Assert.True(string.CompareOrdinal((string?)updated["modifiedAt"], (string?)created["modifiedAt"]) > 0);
        Assert.True(string.CompareOrdinal((string?)updated["temperature"]!["modifiedAt"], (string?)created["temperature"]!["modifiedAt"]) > 0);
    }

    [Fact]
    public async Task TimestampsGivenByTheClientAreIgnored()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""
            {"id": "{{{Id}}}", "type": "Building", "createdAt": "2000-01-01T00:00:00Z",
             "temperature": {"type": "Property", "value": 21, "modifiedAt": "2000-01-01T00:00:00Z"}}
            """);

        var entity = await app.RetrieveAsync(Id, "?options=sysAttrs");

        Assert.NotEqual("2000-01-01T00:00:00Z", (string?)entity["createdAt"]);
        Assert.NotEqual("2000-01-01T00:00:00Z", (string?)entity["temperature"]!["modifiedAt"]);
    }

    [Theory]
    [InlineData("\"/Madrid/Gardens\"")]
    [InlineData("""["/Madrid/Gardens", "/Company/Unit"]""")]
    public async Task ScopeIsKept(string scope)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync($$$"""{"id": "{{{Id}}}", "type": "Building", "scope": {{{scope}}}}""");

        var entity = await app.RetrieveAsync(Id);

        JsonEqual(scope, entity["scope"]);
    }

    [Theory]
    [InlineData("\"Madrid\"")]
    [InlineData("\"/Madrid/\"")]
    [InlineData("42")]
    public async Task AnInvalidScopeIsRejected(string scope)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json($$$"""{"id": "{{{Id}}}", "type": "Building", "scope": {{{scope}}}}"""));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }
}
