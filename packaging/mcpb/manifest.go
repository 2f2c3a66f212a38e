package main

import "github.com/whmcs-mcp/whmcs-mcp/tools"

// manifest is an MCP Bundle's manifest.json (manifest_version 0.3 of
// github.com/anthropics/mcpb), the part of it this bundle uses.
type manifest struct {
	ManifestVersion string                `json:"manifest_version"`
	Name            string                `json:"name"`
	DisplayName     string                `json:"display_name"`
	Version         string                `json:"version"`
	Description     string                `json:"description"`
	LongDescription string                `json:"long_description"`
	Author          author                `json:"author"`
	Repository      repository            `json:"repository"`
	Homepage        string                `json:"homepage"`
	Keywords        []string              `json:"keywords"`
	Server          server                `json:"server"`
	Tools           []tool                `json:"tools"`
	Compatibility   compatibility         `json:"compatibility"`
	UserConfig      map[string]userConfig `json:"user_config"`
}

type author struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type repository struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type server struct {
	Type       string    `json:"type"`
	EntryPoint string    `json:"entry_point"`
	MCPConfig  mcpConfig `json:"mcp_config"`
}

type mcpConfig struct {
	Command           string               `json:"command"`
	Args              []string             `json:"args"`
	Env               map[string]string    `json:"env,omitempty"`
	PlatformOverrides map[string]mcpConfig `json:"platform_overrides,omitempty"`
}

type tool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type compatibility struct {
	Platforms []string `json:"platforms"`
}

type userConfig struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Sensitive   bool   `json:"sensitive,omitempty"`
}

// repositoryURL is where the project lives.
const repositoryURL = "https://github.com/whmcs-mcp/whmcs-mcp"

// newManifest returns the bundle's manifest for version.
func newManifest(version string) *manifest {
	env := map[string]string{
		"WHMCS_URL":           "${user_config.whmcs_url}",
		"WHMCS_IDENTIFIER":    "${user_config.whmcs_identifier}",
		"WHMCS_SECRET":        "${user_config.whmcs_secret}",
		"WHMCS_ACCESS_KEY":    "${user_config.whmcs_access_key}",
		"WHMCS_MCP_POLICY":    "${user_config.policy_file}",
		"WHMCS_MCP_AUDIT_LOG": "${user_config.audit_log}",
	}
	m := &manifest{
		ManifestVersion: "0.3",
		Name:            "whmcs-mcp",
		DisplayName:     "WHMCS",
		Version:         version,
		Description:     "Read and change WHMCS client services, addons and upgrades, with a preview and your confirmation before any status change, upgrade or price change.",
		LongDescription: "whmcs-mcp connects Claude to a WHMCS billing system through its API. Reads (services, addons, products, payment methods) answer at once; " +
			"a change to a service's status, product, price, billing cycle or dates, and every upgrade, first shows a preview (WHMCS's own prorated quote for upgrades) " +
			"and runs only once you confirm it. Every change is recorded in an optional tamper-evident audit log.",
		Author:     author{Name: "whmcs-mcp", URL: repositoryURL},
		Repository: repository{Type: "git", URL: repositoryURL},
		Homepage:   repositoryURL,
		Keywords:   []string{"whmcs", "billing", "hosting"},
		Server: server{
			Type:       "binary",
			EntryPoint: "server/whmcs-mcp.sh",
			MCPConfig: mcpConfig{
				Command: "/bin/sh",
				Args:    []string{"${__dirname}/server/whmcs-mcp.sh"},
				Env:     env,
				PlatformOverrides: map[string]mcpConfig{
					"win32": {Command: "${__dirname}/server/windows-amd64/whmcs-mcp.exe", Args: []string{}, Env: env},
				},
			},
		},
		Compatibility: compatibility{Platforms: []string{"darwin", "win32", "linux"}},
		UserConfig: map[string]userConfig{
			"whmcs_url": {Type: "string", Title: "WHMCS URL", Required: true,
				Description: "Your WHMCS install's address, e.g. https://billing.example.com/whmcs"},
			"whmcs_identifier": {Type: "string", Title: "API identifier", Required: true,
				Description: "From Setup > Staff Management > Manage API Credentials in WHMCS"},
			"whmcs_secret": {Type: "string", Title: "API secret", Required: true, Sensitive: true,
				Description: "The API credential's secret (kept in your system's keychain)"},
			"whmcs_access_key": {Type: "string", Title: "API access key", Sensitive: true,
				Description: "Only if your WHMCS uses an API access key instead of an IP allowlist"},
			"policy_file": {Type: "file", Title: "Policy file",
				Description: "Optional YAML policy: read-only mode, which changes need confirmation, allowed statuses, upgrade price limit"},
			"audit_log": {Type: "string", Title: "Audit log path",
				Description: "Optional file to record every preview, confirmation and change in (JSON Lines, hash-chained)"},
		},
	}
	for _, t := range tools.All(nil) {
		m.Tools = append(m.Tools, tool{Name: t.Name, Description: t.Description})
	}
	return m
}
