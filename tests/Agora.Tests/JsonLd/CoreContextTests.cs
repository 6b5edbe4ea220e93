using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Tests.JsonLd;

public sealed class CoreContextTests
{
    /// The reference copies live in shared/contexts beside the repository (not in it); search upward from the test
    /// assembly so the check runs wherever the repository is cloned, and skips where the copies are absent.
    private static string? ReferenceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "contexts");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    [Theory]
    [InlineData("ngsi-ld-core-context-v1.8.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld")]
    [InlineData("ngsi-ld-core-context-v1.9.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld")]
    public void BuiltInCoreContextMatchesTheReferenceTermByTerm(string file, string url)
    {
        var folder = ReferenceFolder();
        if (folder is null || !File.Exists(Path.Combine(folder, file)))
        {
            return; // Reference copy absent: nothing to check against.
        }
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, file)))!["@context"]!;
        var ours = (JsonObject)CoreContext.Document(CoreContext.VersionOf(url)!.Value)["@context"]!;
        var missing = reference.Select(p => p.Key).Where(k => !ours.ContainsKey(k)).ToList();
        var extra = ours.Select(p => p.Key).Where(k => !reference.ContainsKey(k)).ToList();
        var different = reference.Where(p => ours.ContainsKey(p.Key) && !JsonNode.DeepEquals(p.Value, ours[p.Key])).Select(p => p.Key).ToList();
        Assert.Empty(missing);
        Assert.Empty(extra);
        Assert.Empty(different);
    }

    [Fact]
    public void EveryKnownCoreUrlAnswersWithoutNetwork()
    {
        foreach (var url in new[] { "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld" })
        {
            var ctx = TestContexts.Build($"\"{url}\"");
            Assert.Equal("https://uri.etsi.org/ngsi-ld/Property", ctx.ExpandTerm("Property"));
        }
    }

    [Fact]
    public void TheV19UrlBringsTheV19TermSet()
    {
        var v19 = TestContexts.Build("\"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld\"");
        Assert.Equal("https://uri.etsi.org/ngsi-ld/hasObjectLists", v19.ExpandTerm("objectLists"));
        Assert.Equal("https://uri.etsi.org/ngsi-ld/attributeCount", v19.ExpandTerm("attributeCount"));
        Assert.Equal("https://uri.etsi.org/ngsi-ld/default-context/attributeCount", JsonLdContext.Core.ExpandTerm("attributeCount"));
        Assert.Equal("https://uri.etsi.org/ngsi-ld/hasObjectsLists", JsonLdContext.Core.ExpandTerm("objectsLists"));
    }
}
