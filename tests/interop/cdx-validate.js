// Validate CycloneDX JSON files against the 1.5 strict schema with the validator of
// @cyclonedx/cyclonedx-library. Usage: node cdx-validate.js FILE...
// Exit 0 valid, 1 invalid, 77 when the library or its optional dependencies are missing.
'use strict';
const fs = require('fs');
const path = require('path');

const npmDir = process.env.LETHE_NPM_DIR ||
	path.join(process.env.LETHE_SRC || path.join(__dirname, '..', '..'), 'build', 'npm');
let CDX;
try {
	CDX = require(path.join(npmDir, 'node_modules', '@cyclonedx', 'cyclonedx-library'));
} catch (e) {
	console.error(`SKIP: @cyclonedx/cyclonedx-library not found under ${npmDir}`);
	process.exit(77);
}

async function main() {
	const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
	let bad = 0;
	for (const file of process.argv.slice(2)) {
		let errors;
		try {
			errors = await validator.validate(fs.readFileSync(file, 'utf8'));
		} catch (e) {
			if (e instanceof CDX.Validation.MissingOptionalDependencyError) {
				console.error(`SKIP: ${e.message}`);
				process.exit(77);
			}
			throw e;
		}
		if (errors === null) {
			console.log(`${file}: valid CycloneDX 1.5`);
		} else {
			console.error(`${file}: invalid: ${JSON.stringify(errors, null, 2)}`);
			bad++;
		}
	}
	process.exit(bad ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
