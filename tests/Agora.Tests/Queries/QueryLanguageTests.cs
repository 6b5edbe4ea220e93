using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// The q parameter over HTTP: the parser and evaluator are unit-tested in Query/; these check that the index
/// narrowing and the exact filter agree with them on real stored entities.
public sealed class QueryLanguageTests
{
    private const string S1 = "urn:ngsi-ld:Sensor:1";
    private const string S2 = "urn:ngsi-ld:Sensor:2";
    private const string S3 = "urn:ngsi-ld:Sensor:3";

    private const string Sensors = """
        [
          {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor",
           "temperature": {"type": "Property", "value": 21, "observedAt": "2024-05-01T12:00:00Z", "accuracy": {"type": "Property", "value": 0.5}},
           "name": {"type": "LanguageProperty", "languageMap": {"en": "Kitchen", "fr": "Cuisine"}},
           "room": {"type": "Relationship", "object": "urn:ngsi-ld:Room:1"},
           "status": "ok", "tags": ["indoor", "blue"], "address": {"city": "Lyon", "zip": 69001}},
          {"id": "urn:ngsi-ld:Sensor:2", "type": "Sensor",
           "temperature": {"type": "Property", "value": 30, "observedAt": "2024-06-01T12:00:00Z", "accuracy": {"type": "Property", "value": 2}},
           "name": {"type": "LanguageProperty", "languageMap": {"en": "Garden", "fr": "Jardin"}},
           "room": {"type": "Relationship", "object": "urn:ngsi-ld:Room:2"},
           "status": "fault", "tags": ["outdoor"], "address": {"city": "Paris", "zip": 75001}},
          {"id": "urn:ngsi-ld:Sensor:3", "type": "Sensor",
           "temperature": 15,
           "room": {"type": "Relationship", "object": "urn:ngsi-ld:Room:1"},
           "status": "ok"}
        ]
        """;

    private static async Task<AgoraApplication> SensorsAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync(Sensors);
        return app;
    }

    [Fact]
    public async Task QOnValuesReturnsExactlyTheMatchingEntities()
    {
        await using var app = await SensorsAsync();

        await app.AssertIdsAsync("", "q",
            ("temperature", [S1, S2, S3]),
            ("temperature>20", [S1, S2]),
            ("temperature>=21", [S1, S2]),
            ("temperature<21", [S3]),
            ("temperature==21", [S1]),
            ("temperature!=21", [S2, S3]),
            ("temperature==15..25", [S1, S3]),
            ("temperature==15,30", [S2, S3]),
            ("temperature==16..20", None),
            ("status==\"ok\"", [S1, S3]),
            ("status==\"ok\",\"fault\"", [S1, S2, S3]),
            ("status~=\"^fa\"", [S2]),
            ("status!~=\"^fa\"", [S1, S3]),
            ("tags==\"blue\"", [S1]),
            ("address[city]==\"Paris\"", [S2]),
            ("address[zip]<70000", [S1]),
            ("height", None));
    }

    [Fact]
    public async Task QReachesSubAttributesAndMetadata()
    {
        await using var app = await SensorsAsync();

        await app.AssertIdsAsync("", "q",
            ("temperature.accuracy", [S1, S2]),
            ("temperature.accuracy<1", [S1]),
            ("temperature.observedAt", [S1, S2]),
            ("temperature.observedAt>=2024-05-15T00:00:00Z", [S2]),
            ("temperature.observedAt<2024-05-15T00:00:00Z", [S1]));
    }

    [Fact]
    public async Task QMatchesLanguagePropertiesByLanguage()
    {
        await using var app = await SensorsAsync();

        await app.AssertIdsAsync("", "q",
            ("name[en]==\"Kitchen\"", [S1]),
            ("name[fr]==\"Jardin\"", [S2]),
            ("name[fr]==\"Kitchen\"", None),
            ("name==\"Cuisine\"", [S1]),
            ("name", [S1, S2]),
            ("!name", [S3]));
    }

    [Fact]
    public async Task QMatchesRelationshipsByObject()
    {
        await using var app = await SensorsAsync();

        await app.AssertIdsAsync("", "q",
            ("room==urn:ngsi-ld:Room:1", [S1, S3]),
            ("room==\"urn:ngsi-ld:Room:2\"", [S2]),
            ("room==urn:ngsi-ld:Room:9,urn:ngsi-ld:Room:2", [S2]),
            ("room!=urn:ngsi-ld:Room:1", [S2]));
    }

    [Fact]
    public async Task QCombinesTermsWithAndAndOr()
    {
        await using var app = await SensorsAsync();

        await app.AssertIdsAsync("", "q",
            ("temperature>20;status==\"ok\"", [S1]),
            ("temperature<20|status==\"fault\"", [S2, S3]),
            ("(temperature<20|status==\"fault\");room==urn:ngsi-ld:Room:2", [S2]),
            ("status==\"ok\";room==urn:ngsi-ld:Room:1;!name", [S3]),
            ("name[en]==\"Garden\"|temperature.accuracy<1", [S1, S2]),
            // A disjunction or conjunction with a !attr operand: such an operand cannot be counted by the index.
            ("!name|status==\"fault\"", [S2, S3]),
            ("(status==\"ok\";!name)|temperature>25", [S2, S3]));
    }

    [Fact]
    public async Task QWithATypeNarrowsToBoth()
    {
        await using var app = await SensorsAsync();
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Oven:1", "type": "Oven", "temperature": 250}]""");

        Assert.Equal(["urn:ngsi-ld:Oven:1", S1, S2], await app.IdsAsync("q=temperature>20"));
        Assert.Equal([S1, S2], await app.IdsAsync("type=Sensor&q=temperature>20"));
    }

    [Fact]
    public async Task AMalformedQIsBadRequestDataThatNamesThePosition()
    {
        await using var app = await SensorsAsync();

        var problems = await app.AssertEachRejectedAsync(HttpStatusCode.BadRequest, "BadRequestData",
            [.. new[] { "temperature>>3", "temperature==", "(temperature>3", "temperature>3;", "temperature==\"open" }
                .Select(q => EntitiesPath + "?q=" + Escape(q))]);

        Assert.All(problems, problem => Assert.Matches(@"position \d+", (string?)problem["detail"]));
    }
}
