package tlsreg

// services maps the ports on which TLS is spoken directly (implicit TLS) to the short,
// conventional service names an analyst searches for (serviceName ~* 'mysql'). They
// follow IANA where its name is the common one (https, ldaps, imaps) and common usage
// where IANA's is obscure (3389 rdp rather than ms-wbt-server, 8443 https-alt rather than
// pcsync-https). Zeek's conn.log reports "ssl" for all of them, so ingesters derive the
// name from the responder port with ServiceName.
var services = map[uint16]string{
	443:  "https",
	465:  "smtps",
	563:  "nntps",
	636:  "ldaps",
	853:  "dns-over-tls",
	990:  "ftps",
	992:  "telnets",
	993:  "imaps",
	995:  "pop3s",
	1433: "mssql",
	2376: "docker-tls",
	3269: "ldaps-gc",
	3306: "mysql",
	3389: "rdp",
	5061: "sips",
	5432: "postgresql",
	5671: "amqps",
	5986: "winrm-https",
	6443: "kube-apiserver",
	8443: "https-alt",
	8883: "mqtts",
	9093: "kafka",
}

// ServiceName returns the service name of a well-known TLS server port ("https" for 443,
// "mysql" for 3306, "rdp" for 3389 ...), or "" when the port has no entry, in which case
// serviceName is NULL.
func ServiceName(port uint16) string { return services[port] }
